import { gunzipSync, inflateSync } from 'node:zlib';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import httpHeaderNormalizer from '@middy/http-header-normalizer';
import httpRouterHandler from '@middy/http-router';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import {
  HttpError,
  PayloadTooLargeError,
  printable,
  problemLimits,
  ValidationError,
} from '../../lib/errors.ts';
import { headTwins } from '../../lib/http/routes.ts';
import { authorize, keyFromHeaders } from '../../lib/keys.ts';
import { ingestLimits } from '../../lib/metrics/limits.ts';
import type { ApiKeyRecord, KeyScope, KeyStore } from '../../lib/ports/key-store.ts';
import { logger } from './logger.ts';

export type HttpResponse = APIGatewayProxyStructuredResultV2;

/** An HTTP API (payload 2.0) event, with the body decoded once by {@link requestBody}. */
export interface HttpEvent extends APIGatewayProxyEventV2 {
  /** The body's bytes after base64 and Content-Encoding were undone. */
  rawBody?: Buffer;
  /** The body as text, when API Gateway passed it as text with no Content-Encoding (saves two copies). */
  rawText?: string;
  /** The matched route's own error format, if it has one (set by the router before the route runs). */
  renderError?: (error: HttpError, event: HttpEvent) => HttpResponse;
}

/** What a route handler receives beside the event. */
export interface RouteContext<Dependencies> {
  readonly dependencies: Dependencies;
  /** The key the request was authorised with (undefined on routes without a scope). */
  readonly key: ApiKeyRecord | undefined;
  readonly lambda: Context;
}

export interface RouteDefinition<Dependencies> {
  readonly method: 'GET' | 'POST' | 'PUT' | 'DELETE' | 'HEAD';
  readonly path: string;
  readonly scope: KeyScope | undefined;
  readonly handle: (event: HttpEvent, context: RouteContext<Dependencies>) => Promise<HttpResponse>;
  /** Where the key is; `Authorization`/`x-api-key` headers by default (Netuitive agents put it in the path). */
  readonly keyFrom?: (event: HttpEvent) => string | undefined;
  /** Renders errors in the format the route's clients read (OTLP Status, Influx errors); JSON by default. */
  readonly renderError?: (error: HttpError, event: HttpEvent) => HttpResponse;
}

/** A JSON response. */
export const json = (
  statusCode: number,
  body: unknown,
  headers: Record<string, string> = {},
): HttpResponse => ({
  statusCode,
  headers: { 'content-type': 'application/json; charset=utf-8', ...headers },
  body: JSON.stringify(body),
});

/** The body as UTF-8 text (after {@link requestBody} decoded it). */
export const bodyText = (event: HttpEvent): string => event.rawText ?? event.rawBody?.toString('utf8') ?? '';

/** The request's media type, lower-cased without parameters (`application/json`), or '' when not given. */
export const mediaType = (event: HttpEvent): string =>
  (event.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase() ?? '';

/** An error's message as a reply shows it: printable, and at most problemLimits.replyMessageLength long. */
export const replyMessage = (error: Error): string =>
  printable(String(error.message ?? ''), problemLimits.replyMessageLength);

/** The body's bytes (after {@link requestBody} decoded it). */
export const bodyBytes = (event: HttpEvent): Buffer =>
  event.rawBody ?? Buffer.from(event.rawText ?? '', 'utf8');

/**
 * Undoes one Content-Encoding, giving at most `maxBytes` (a PayloadTooLargeError, 413, beyond); any other error
 * is the client's (400).
 */
export type BodyDecoder = (bytes: Buffer, maxBytes: number) => Buffer;

/** Content-Encodings a function takes besides gzip and deflate, by their lower-case name. */
export type BodyDecoders = Readonly<Record<string, BodyDecoder>>;

/**
 * Builds an HTTP Lambda handler: header normalisation, body decoding with a size limit, key checks per route,
 * routing, and one place where errors become responses. `dependencies` is called once, on the first request,
 * so that a missing setting fails loudly there and module import stays cheap.
 */
export function httpHandler<Dependencies extends { keys: KeyStore }>(
  routes: readonly RouteDefinition<Dependencies>[],
  dependencies: () => Dependencies,
  options: { bodyDecoders?: BodyDecoders } = {},
) {
  let built: Dependencies | undefined;
  const resolve = () => {
    built ??= dependencies();
    return built;
  };
  const router = httpRouterHandler({
    routes: [...routes, ...headTwins(routes).map(withoutBody)].map((route) => ({
      method: route.method,
      path: route.path,
      handler: async (event: HttpEvent, lambda: Context) => {
        event.renderError = route.renderError;
        const resolved = resolve();
        const key =
          route.scope === undefined
            ? undefined
            : await authorize(
                resolved.keys,
                route.keyFrom ? route.keyFrom(event) : keyFromHeaders(event.headers),
                route.scope,
              );
        return route.handle(event, { dependencies: resolved, key, lambda });
      },
    })),
    notFoundResponse: ({ method, path }: { method: string; path: string }) => {
      throw new HttpError(404, 'not_found', `no route for ${method} ${path}`);
    },
  });
  return middy<HttpEvent, HttpResponse>()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(httpHeaderNormalizer())
    .use(requestBody({ decoders: options.bodyDecoders }))
    .use(errorResponses())
    .handler(router as unknown as (event: HttpEvent, context: Context) => Promise<HttpResponse>);
}

/**
 * A GET route's HEAD twin: the same route (key, scope, checks), answering the same status and headers
 * without the body (RFC 9110). Monitors and link checkers send HEAD; API Gateway routes it like any method.
 */
function withoutBody<Dependencies>(route: RouteDefinition<Dependencies>): RouteDefinition<Dependencies> {
  return {
    ...route,
    handle: async (event, context) => ({ ...(await route.handle(event, context)), body: '' }),
  };
}

const isHead = (event: HttpEvent): boolean => event.requestContext?.http?.method === 'HEAD';

/**
 * Undoes API Gateway's base64 and the client's Content-Encoding (gzip, deflate, and those of `decoders`),
 * enforcing the size limit on the decompressed bytes as they are produced, so a gzip bomb stops at the limit
 * instead of filling memory.
 */
export function requestBody(
  options: { maxBytes?: number; decoders?: BodyDecoders } = {},
): middy.MiddlewareObj<HttpEvent, HttpResponse> {
  const maxBytes = options.maxBytes ?? ingestLimits.maxBodyBytes;
  const decoders = options.decoders ?? {};
  const before: middy.MiddlewareFn<HttpEvent, HttpResponse> = (request) => {
    const { event } = request;
    if (event.body === undefined || event.body === null) return;
    const encoding = (event.headers['content-encoding'] ?? 'identity').trim().toLowerCase();
    if (!event.isBase64Encoded && (encoding === 'identity' || encoding === '')) {
      if (Buffer.byteLength(event.body, 'utf8') > maxBytes) throw new PayloadTooLargeError(maxBytes);
      event.rawText = event.body;
      return;
    }
    let bytes: Buffer = event.isBase64Encoded
      ? Buffer.from(event.body, 'base64')
      : Buffer.from(event.body, 'utf8');
    try {
      if (encoding === 'gzip' || encoding === 'x-gzip')
        bytes = gunzipSync(bytes, { maxOutputLength: maxBytes });
      else if (encoding === 'deflate') bytes = inflateSync(bytes, { maxOutputLength: maxBytes });
      else if (Object.hasOwn(decoders, encoding))
        bytes = (decoders[encoding] as BodyDecoder)(bytes, maxBytes);
      else if (encoding !== 'identity' && encoding !== '') {
        throw new HttpError(415, 'unsupported_encoding', `Content-Encoding "${encoding}" is not supported`);
      }
    } catch (error) {
      if (error instanceof HttpError) throw error;
      if ((error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE')
        throw new PayloadTooLargeError(maxBytes);
      throw new ValidationError(
        `the body could not be decompressed as ${encoding}: ${(error as Error).message}`,
      );
    }
    if (bytes.length > maxBytes) throw new PayloadTooLargeError(maxBytes);
    event.rawBody = bytes;
  };
  return { before };
}

/** Turns errors into JSON responses: HttpErrors as they say, anything else a 500 that hides its details. */
export function errorResponses(): middy.MiddlewareObj<HttpEvent, HttpResponse> {
  const onError: middy.MiddlewareFn<HttpEvent, HttpResponse> = (request) => {
    const error = request.error;
    if (error instanceof HttpError && error.statusCode >= 500) {
      // A 503 from a store outage: the client retries, but operators need to see why.
      logger.error('request failed', {
        error,
        routeKey: safePath(request.event),
        requestId: request.context.awsRequestId,
      });
    }
    // The count feeds the RejectedItems metric filter and alarm; the request's content is never logged.
    if (error instanceof HttpError && error.problemCount > 0) {
      logger.warn('request rejected', { rejectedItems: error.problemCount });
    }
    request.response = errorResponse(request);
    // A HEAD answer has no body, errors included.
    if (isHead(request.event) && request.response) request.response = { ...request.response, body: '' };
  };
  const errorResponse = (request: middy.Request<HttpEvent, HttpResponse>): HttpResponse => {
    const error = request.error;
    if (error instanceof HttpError && request.event.renderError) {
      return request.event.renderError(error, request.event);
    }
    if (error instanceof HttpError) {
      // The problems are bounded (the first ones and their count), so no reply outgrows its limits.
      const problems = error.problems && { problems: error.problems, problemCount: error.problemCount };
      return json(
        error.statusCode,
        { error: { code: error.code, message: replyMessage(error), ...problems } },
        error.options.headers,
      );
    }
    const status = (error as { statusCode?: number } | null)?.statusCode;
    if (typeof status === 'number' && status >= 400 && status < 500) {
      return json(status, { error: { code: 'bad_request', message: replyMessage(error as Error) } });
    }
    logger.error('request failed', {
      error,
      path: safePath(request.event),
      requestId: request.context.awsRequestId,
    });
    return json(500, {
      error: { code: 'internal', message: 'internal error', requestId: request.context.awsRequestId },
    });
  };
  return { onError };
}

/** The request path for logs, with the API key of Netuitive-style routes (`/ingest/.../{apiKey}`) masked. */
export function safePath(event: HttpEvent): string {
  const path = event.requestContext?.http?.path ?? event.rawPath ?? '';
  return path.replace(/^(\/ingest\/(?:[a-z]+\/)?)[^/]+\/?$/, '$1***');
}
