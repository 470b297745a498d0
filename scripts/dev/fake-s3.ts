import { createHash } from 'node:crypto';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  GetObjectCommand,
  type GetObjectCommandInput,
  PutObjectCommand,
  type PutObjectCommandInput,
  S3Client,
} from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';

/**
 * An in-memory (or on-disk) S3 bucket behind aws-sdk-client-mock, for the state store tests and the band job
 * benchmarks (both import it from here: bench/ does not import test/).
 */

/** An error as the SDK throws it for an HTTP status (the adapter reads `$metadata.httpStatusCode`). */
const httpError = (name: string, status: number) =>
  Object.assign(new Error(name), { name, $metadata: { httpStatusCode: status } });

/** An object of the fake bucket: its body in memory, or in a file (see `FakeS3Options.directory`). */
export type FakeS3Object = { readonly etag: string } & (
  | { readonly body: Uint8Array }
  | { readonly file: string }
);

export interface FakeS3Options {
  /**
   * Keep the bodies PUT in files under this directory instead of in memory, and log PUTs without their
   * bodies: a benchmark's process then holds only what the S3 client's caller holds, as the caller's own
   * process would (S3 keeps the objects elsewhere). A GET of a file-backed object reads it into a new buffer,
   * as a download would.
   */
  readonly directory?: string;
}

/**
 * S3 at the AWS boundary (aws-sdk-client-mock on every S3Client): a bucket that honours the conditions the
 * state adapter sends: GET with If-None-Match (304), PUT with If-Match and If-None-Match: * (412), missing
 * keys (404). ETags are the MD5 of the body, quoted, as S3 gives them for single-part PUTs. The fake logs the
 * requests itself (`gets`, `puts`, `putBytes`); the mock keeps no call history (it would hold every body).
 */
export class FakeS3 {
  readonly objects = new Map<string, FakeS3Object>();
  readonly gets: GetObjectCommandInput[] = [];
  readonly puts: PutObjectCommandInput[] = [];
  /** The bytes of the bodies PUT since the requests were last cleared. */
  putBytes = 0;
  private readonly mock = mockClient(S3Client);
  /** Files this fake wrote (it removes one when its object is replaced). */
  private readonly written = new Set<string>();
  private files = 0;

  constructor(private readonly options: FakeS3Options = {}) {
    this.mock.on(GetObjectCommand).callsFake((input: GetObjectCommandInput) => {
      this.forgetCall();
      this.gets.push(input);
      const object = this.objects.get(`${input.Bucket}/${input.Key}`);
      if (!object) throw httpError('NoSuchKey', 404);
      if (input.IfNoneMatch !== undefined && input.IfNoneMatch === object.etag) {
        throw httpError('NotModified', 304);
      }
      const bytes = 'body' in object ? object.body : new Uint8Array(readFileSync(object.file));
      return { ETag: object.etag, Body: { transformToByteArray: async () => bytes } };
    });
    this.mock.on(PutObjectCommand).callsFake((input: PutObjectCommandInput) => {
      this.forgetCall();
      const body = input.Body as Uint8Array;
      this.puts.push(this.options.directory ? { ...input, Body: undefined } : input);
      this.putBytes += body.length;
      const key = `${input.Bucket}/${input.Key}`;
      const current = this.objects.get(key);
      if (input.IfNoneMatch === '*' && current) throw httpError('PreconditionFailed', 412);
      if (input.IfMatch !== undefined && current?.etag !== input.IfMatch) {
        throw httpError('PreconditionFailed', 412);
      }
      const etag = `"${createHash('md5').update(body).digest('hex')}"`;
      this.objects.set(key, this.stored(body, etag));
      if (current && 'file' in current && this.written.delete(current.file)) rmSync(current.file);
      return { ETag: etag };
    });
  }

  /** The body of an object, if there is one under the key. */
  body(key: string): Uint8Array | undefined {
    const object = this.objects.get(key);
    if (!object) return undefined;
    return 'body' in object ? object.body : new Uint8Array(readFileSync(object.file));
  }

  /** Forgets the requests seen so far (the objects stay). */
  clearRequests(): void {
    this.gets.length = 0;
    this.puts.length = 0;
    this.putBytes = 0;
    this.mock.resetHistory();
  }

  restore(): void {
    this.mock.restore();
  }

  /** Clears the mock's call history once the call being made is recorded (sinon refuses it during one). */
  private forgetCall(): void {
    queueMicrotask(() => this.mock.resetHistory());
  }

  private stored(body: Uint8Array, etag: string): FakeS3Object {
    const { directory } = this.options;
    if (!directory) return { body, etag };
    const file = join(directory, `${this.files++}.bin`);
    writeFileSync(file, body);
    this.written.add(file);
    return { file, etag };
  }
}
