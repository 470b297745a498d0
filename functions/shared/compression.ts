import { gzipSync } from 'node:zlib';
import type middy from '@middy/core';
import type { HttpEvent, HttpResponse } from './http.ts';

/** Bodies smaller than this gain too little from gzip to be worth the CPU. */
const minimumBytes = 1024;

/**
 * Gzips text responses for clients that accept it (API Gateway passes them through as they are): a month of
 * points shrinks several times, which matters under Lambda's 6 MB response limit and on a phone.
 */
export function gzipResponses(): middy.MiddlewareObj<HttpEvent, HttpResponse> {
  const after: middy.MiddlewareFn<HttpEvent, HttpResponse> = (request) => {
    const response = request.response;
    if (!response || typeof response !== 'object' || response.isBase64Encoded) return;
    const body = response.body;
    if (typeof body !== 'string' || Buffer.byteLength(body) < minimumBytes) return;
    const accepted = request.event.headers?.['accept-encoding'] ?? '';
    if (!/(^|,)\s*gzip\s*(;\s*q=(?!0(\.0*)?\s*(,|$))[\d.]+)?\s*(,|$)/i.test(accepted)) return;
    request.response = {
      ...response,
      headers: { ...response.headers, 'content-encoding': 'gzip', vary: 'accept-encoding' },
      body: gzipSync(body).toString('base64'),
      isBase64Encoded: true,
    };
  };
  return { after };
}
