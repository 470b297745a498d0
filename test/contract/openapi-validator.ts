import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { parse } from 'yaml';

export const openApiPath = join(import.meta.dirname, '..', '..', 'docs', 'openapi.yaml');

export interface OpenApiDocument {
  openapi: string;
  paths: Record<string, Record<string, Operation>>;
  components: Record<string, unknown>;
}

interface Content {
  $ref?: string;
  content?: Record<string, { schema?: unknown }>;
}

interface Operation {
  responses: Record<string, Content>;
  requestBody?: Content;
}

export const loadOpenApi = (): OpenApiDocument => parse(readFileSync(openApiPath, 'utf8')) as OpenApiDocument;

const pointer = (...parts: string[]) =>
  parts.map((part) => part.replaceAll('~', '~0').replaceAll('/', '~1')).join('/');

/**
 * Checks real exchanges against docs/openapi.yaml with Ajv's JSON Schema 2020-12 validator (OpenAPI 3.1's
 * dialect): a response's status must be documented for the route and its body match the documented schema
 * (or be empty where none is documented; binary media types are checked by type only), and request bodies
 * can be checked against the route's documented request body.
 */
export class OpenApiResponseValidator {
  private readonly ajv = new Ajv2020({ strict: false, allErrors: true });
  readonly document = loadOpenApi();

  constructor() {
    addFormats.default(this.ajv);
    this.ajv.addSchema({ ...this.document, $id: 'openapi' });
  }

  /** Throws, saying what differs, unless `body` is what the document promises for this route and status. */
  assertResponse(
    method: string,
    routePath: string,
    status: number,
    contentType: string,
    body: unknown,
  ): void {
    const operation = this.operation(method, routePath);
    const [response, responsePointer] = this.resolve(
      operation.responses[String(status)],
      pointer('paths', routePath, method.toLowerCase(), 'responses', String(status)),
      'responses',
    );
    if (!response)
      throw new Error(`${method} ${routePath} answered ${status}, which the document does not list`);
    if (!response.content) {
      if (body !== undefined && body !== '') {
        throw new Error(`${method} ${routePath} ${status} has a body, but the document promises none`);
      }
      return;
    }
    const what = `${method} ${routePath} ${status}`;
    this.assertContent(response, responsePointer, contentType, body, what);
  }

  /**
   * The problems Ajv finds in a request body for this route (empty when the document accepts it), so that
   * tests can check that what the server takes, the document takes too, and what it refuses, the document
   * refuses.
   */
  requestBodyProblems(method: string, routePath: string, contentType: string, body: unknown): string[] {
    const operation = this.operation(method, routePath);
    const [request, requestPointer] = this.resolve(
      operation.requestBody,
      pointer('paths', routePath, method.toLowerCase(), 'requestBody'),
      'requestBodies',
    );
    if (!request) throw new Error(`${method} ${routePath} documents no request body`);
    const validate = this.schemaOf(request, requestPointer, contentType, `${method} ${routePath} request`);
    if (!validate || validate(body)) return [];
    return (validate.errors ?? []).map((error) => `${error.instancePath || '(body)'} ${error.message ?? ''}`);
  }

  /** Throws unless `body` is a request body the document accepts for this route. */
  assertRequestBody(method: string, routePath: string, contentType: string, body: unknown): void {
    const problems = this.requestBodyProblems(method, routePath, contentType, body);
    if (problems.length > 0) {
      throw new Error(
        `${method} ${routePath} request does not match docs/openapi.yaml: ${problems.join('; ')}`,
      );
    }
  }

  /** Throws unless `value` matches the schema at `schemaPointer` (e.g. `#/components/schemas/AlertMessage`). */
  assertSchema(schemaPointer: string, value: unknown): void {
    const validate = this.ajv.getSchema(`openapi${schemaPointer}`);
    if (!validate) throw new Error(`no schema at ${schemaPointer}`);
    if (!validate(value)) {
      throw new Error(`${schemaPointer} does not match: ${this.ajv.errorsText(validate.errors)}`);
    }
  }

  private operation(method: string, routePath: string): Operation {
    const operation = this.document.paths[routePath]?.[method.toLowerCase()];
    if (!operation) throw new Error(`${method} ${routePath} is not in docs/openapi.yaml`);
    return operation;
  }

  /** A response or request body, following one `$ref` into `components/<section>`, with its JSON pointer. */
  private resolve(
    item: Content | undefined,
    itemPointer: string,
    section: 'responses' | 'requestBodies',
  ): [Content | undefined, string] {
    if (!item?.$ref) return [item, itemPointer];
    const name = item.$ref.split('/').at(-1) ?? '';
    const components = this.document.components[section] as Record<string, Content> | undefined;
    return [components?.[name], item.$ref.slice(2)];
  }

  /** The compiled schema of a media type; undefined for binary media types (documented, not JSON). */
  private schemaOf(item: Content, itemPointer: string, contentType: string, what: string) {
    const mediaType = contentType.split(';')[0]?.trim() ?? '';
    const media = item.content?.[mediaType];
    if (!media) throw new Error(`${what}: content type ${mediaType} is not documented`);
    if (!mediaType.endsWith('json')) return undefined;
    const validate = this.ajv.getSchema(`openapi#/${itemPointer}/${pointer('content', mediaType, 'schema')}`);
    if (!validate) throw new Error(`no schema for ${what}`);
    return validate;
  }

  private assertContent(
    item: Content,
    itemPointer: string,
    contentType: string,
    body: unknown,
    what: string,
  ): void {
    const validate = this.schemaOf(item, itemPointer, contentType, what);
    if (validate && !validate(body)) {
      throw new Error(`${what} does not match docs/openapi.yaml: ${this.ajv.errorsText(validate.errors)}`);
    }
  }
}
