import type { TestServer } from '../helpers/local.ts';
import type { OpenApiResponseValidator } from './openapi-validator.ts';

export interface CallOptions {
  /** The route as the document names it (`/v1/rules/{id}`); default the path without its query. */
  readonly route?: string;
  /** A JSON value (sent as JSON), or raw text or bytes sent as they are. */
  readonly body?: unknown;
  readonly contentType?: string;
  /** The key to send as a Bearer token; default the server's all-scopes key, null for none. */
  readonly key?: string | null;
  readonly headers?: Record<string, string>;
  /**
   * Whether the document must accept the JSON body (`valid`) or refuse it (`invalid`, for bodies the server
   * refuses in ways a schema can say); default not checked.
   */
  readonly request?: 'valid' | 'invalid';
}

export interface DocumentedAnswer {
  readonly status: number;
  readonly headers: Headers;
  // biome-ignore lint/suspicious/noExplicitAny: bodies are checked against the OpenAPI document
  readonly body: any;
}

/**
 * Calls the real local server and checks the exchange against docs/openapi.yaml: the answer always (status
 * documented, body matching its schema, or no body where none is promised), and the request body when the
 * test says whether the document should accept it.
 */
export function documentedCalls(server: () => TestServer, validator: OpenApiResponseValidator) {
  return async (method: string, path: string, options: CallOptions = {}): Promise<DocumentedAnswer> => {
    const route = options.route ?? path.split('?')[0] ?? path;
    const isJson =
      options.body !== undefined && !(typeof options.body === 'string') && !isBytes(options.body);
    const contentType = options.contentType ?? (isJson ? 'application/json' : undefined);
    if (options.request !== undefined && contentType !== undefined) {
      const problems = validator.requestBodyProblems(method, route, contentType, options.body);
      if (options.request === 'valid' && problems.length > 0) {
        throw new Error(`the document refuses the ${method} ${route} body sent: ${problems.join('; ')}`);
      }
      if (options.request === 'invalid' && problems.length === 0) {
        throw new Error(`the document accepts the ${method} ${route} body the server should refuse`);
      }
    }
    const key = options.key === undefined ? server().key : options.key;
    const response = await fetch(`${server().url}${path}`, {
      method,
      headers: {
        ...(key !== null && { authorization: `Bearer ${key}` }),
        ...(contentType !== undefined && { 'content-type': contentType }),
        ...options.headers,
      },
      body: isJson
        ? JSON.stringify(options.body)
        : (options.body as string | Uint8Array<ArrayBuffer> | undefined),
    });
    const type = response.headers.get('content-type') ?? '';
    const raw = Buffer.from(await response.arrayBuffer());
    // A HEAD answer has GET's headers (its content type included) but never a body.
    const body =
      method === 'HEAD' && raw.length === 0
        ? ''
        : /json/.test(type)
          ? JSON.parse(raw.toString('utf8'))
          : type === ''
            ? raw.toString('utf8')
            : raw;
    validator.assertResponse(method, route, response.status, type, body);
    return { status: response.status, headers: response.headers, body };
  };
}

const isBytes = (value: unknown): value is Uint8Array => value instanceof Uint8Array;
