import { createHash } from 'node:crypto';
import {
  GetObjectCommand,
  type GetObjectCommandInput,
  PutObjectCommand,
  type PutObjectCommandInput,
  S3Client,
} from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';

/** An error as the SDK throws it for an HTTP status (the adapter reads `$metadata.httpStatusCode`). */
const httpError = (name: string, status: number) =>
  Object.assign(new Error(name), { name, $metadata: { httpStatusCode: status } });

/**
 * S3 at the AWS boundary (aws-sdk-client-mock on every S3Client): a bucket in memory that honours the
 * conditions the state adapter sends: GET with If-None-Match (304), PUT with If-Match and If-None-Match: *
 * (412), missing keys (404). ETags are the MD5 of the body, quoted, as S3 gives them for single-part PUTs.
 */
export class FakeS3 {
  readonly objects = new Map<string, { body: Uint8Array; etag: string }>();
  readonly gets: GetObjectCommandInput[] = [];
  readonly puts: PutObjectCommandInput[] = [];
  private readonly mock = mockClient(S3Client);

  constructor() {
    this.mock.on(GetObjectCommand).callsFake((input: GetObjectCommandInput) => {
      this.gets.push(input);
      const object = this.objects.get(`${input.Bucket}/${input.Key}`);
      if (!object) throw httpError('NoSuchKey', 404);
      if (input.IfNoneMatch !== undefined && input.IfNoneMatch === object.etag) {
        throw httpError('NotModified', 304);
      }
      const bytes = object.body;
      return { ETag: object.etag, Body: { transformToByteArray: async () => bytes } };
    });
    this.mock.on(PutObjectCommand).callsFake((input: PutObjectCommandInput) => {
      this.puts.push(input);
      const key = `${input.Bucket}/${input.Key}`;
      const current = this.objects.get(key);
      if (input.IfNoneMatch === '*' && current) throw httpError('PreconditionFailed', 412);
      if (input.IfMatch !== undefined && current?.etag !== input.IfMatch) {
        throw httpError('PreconditionFailed', 412);
      }
      const body = input.Body as Uint8Array;
      const etag = `"${createHash('md5').update(body).digest('hex')}"`;
      this.objects.set(key, { body, etag });
      return { ETag: etag };
    });
  }

  /** Forgets the requests seen so far, the mock's call history included (the objects stay). */
  clearRequests(): void {
    this.gets.length = 0;
    this.puts.length = 0;
    this.mock.resetHistory();
  }

  restore(): void {
    this.mock.restore();
  }
}
