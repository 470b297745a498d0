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

interface Operation {
  responses: Record<string, { $ref?: string; content?: Record<string, { schema?: unknown }> }>;
}

export const loadOpenApi = (): OpenApiDocument => parse(readFileSync(openApiPath, 'utf8')) as OpenApiDocument;

const pointer = (...parts: string[]) =>
  parts.map((part) => part.replaceAll('~', '~0').replaceAll('/', '~1')).join('/');

/**
 * Checks real responses against docs/openapi.yaml with Ajv's JSON Schema 2020-12 validator (OpenAPI 3.1's
 * dialect): the status must be documented for the route, and the body must match the documented schema.
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
    const operation = this.document.paths[routePath]?.[method.toLowerCase()];
    if (!operation) throw new Error(`${method} ${routePath} is not in docs/openapi.yaml`);
    let response = operation.responses[String(status)];
    let responsePointer = pointer('paths', routePath, method.toLowerCase(), 'responses', String(status));
    if (!response)
      throw new Error(`${method} ${routePath} answered ${status}, which the document does not list`);
    if (response.$ref) {
      responsePointer = response.$ref.slice(2);
      const name = response.$ref.split('/').at(-1) ?? '';
      response = (this.document.components.responses as Record<string, typeof response>)[name] ?? {};
    }
    const mediaType = contentType.split(';')[0]?.trim() ?? '';
    if (!response.content?.[mediaType]) {
      throw new Error(`${method} ${routePath} ${status}: content type ${mediaType} is not documented`);
    }
    const validate = this.ajv.getSchema(
      `openapi#/${responsePointer}/${pointer('content', mediaType, 'schema')}`,
    );
    if (!validate) throw new Error(`no schema for ${method} ${routePath} ${status}`);
    if (!validate(body)) {
      throw new Error(
        `${method} ${routePath} ${status} does not match docs/openapi.yaml: ${this.ajv.errorsText(validate.errors)}`,
      );
    }
  }
}
