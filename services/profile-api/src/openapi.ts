/**
 * The OpenAPI 3.1 document of the API, generated from the route table and the zod schemas
 * (zod 4 emits JSON Schema 2020-12, the dialect of OpenAPI 3.1). The document is served at
 * /openapi.json and checked in as services/profile-api/openapi.json; a test keeps the two
 * equal. Regenerate the file after changing a route or schema:
 *
 *   pnpm --filter @crm/profile-api openapi      (node src/openapi.ts --write)
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { ROUTES, type RouteSpec } from './routes.ts';
import { COMPONENTS } from './schemas.ts';
import { SCOPES, type Scope } from './tokens.ts';

export const OPENAPI_FILE = fileURLToPath(new URL('../openapi.json', import.meta.url));

const API_VERSION = '1.0.0';

type Json = Record<string, unknown>;

const ERROR_DESCRIPTIONS: Record<number, string> = {
  400: 'Invalid parameters (details name each)',
  401: 'Missing or unknown bearer token (with `WWW-Authenticate: Bearer`)',
  403: "The token lacks the route's scope",
  404: 'No such customer or segment',
  429: 'The token is over its rate limit: retry after `Retry-After` seconds',
  503: 'Redis is unavailable',
};

/** Headers that go with an error response. */
const ERROR_HEADERS: Record<number, Json> = {
  401: { 'WWW-Authenticate': { description: 'Always `Bearer`', schema: { type: 'string', const: 'Bearer' } } },
  429: { 'Retry-After': { description: 'Whole seconds until the token may send again', schema: { type: 'integer', minimum: 1 } } },
};

const SCOPE_DESCRIPTIONS: Record<Scope, string> = {
  'customers:read': "customer data: a customer's profile and recent changes, the customer list, and segment member lists, which list customer ids",
  'segments:read': 'segment member counts only, no customer id',
};

/** Schemas named with `.meta({ id })` become components; references point there. */
const ref = (id: string) => `#/components/schemas/${id}`;

const OPTIONS = {
  target: 'draft-2020-12',
  unrepresentable: 'throw',
  uri: ref,
  // `format: date-time` says it all; zod's long equivalent regex would only add noise.
  override: (ctx: { jsonSchema: Json }) => {
    if (ctx.jsonSchema['format'] === 'date-time') delete ctx.jsonSchema['pattern'];
  },
} as const;

function jsonSchema(schema: z.ZodType, io: 'input' | 'output'): Json {
  const { $schema: _, ...rest } = z.toJSONSchema(schema, { ...OPTIONS, io }) as Json;
  return rest;
}

function parameters(where: 'path' | 'query', object: z.ZodObject | undefined): Json[] {
  if (object === undefined) return [];
  return Object.entries(object.shape).map(([name, field]) => {
    const { description, ...schema } = jsonSchema(field as z.ZodType, 'input');
    return {
      name,
      in: where,
      required: where === 'path' || !(field as z.ZodType).safeParse(undefined).success,
      ...(description === undefined ? {} : { description }),
      schema,
    };
  });
}

const openApiPath = (url: string) => url.replace(/:([A-Za-z0-9_]+)/g, '{$1}');

function operation(r: RouteSpec): Json {
  const body = (schema: z.ZodType): Json => {
    const id = z.globalRegistry.get(schema)?.id;
    return typeof id === 'string' && id in COMPONENTS ? { $ref: ref(id) } : jsonSchema(schema, 'output');
  };
  const responses: Json = {};
  responses['200'] =
    'contentType' in r.ok
      ? {
          description: r.ok.description,
          content: { [r.ok.contentType]: { schema: r.ok.contentType === 'text/plain' ? { type: 'string' } : { type: 'object' } } },
        }
      : { description: 'OK', content: { 'application/json': { schema: body(r.ok) } } };
  for (const status of r.errors) responses[String(status)] = { $ref: `#/components/responses/E${status}` };
  for (const x of r.extra ?? []) responses[String(x.status)] = { description: x.description, content: { 'application/json': { schema: body(x.schema) } } };
  return {
    operationId: r.operationId,
    summary: r.summary,
    ...(r.description === undefined ? {} : { description: r.description }),
    security: r.scope === null ? [] : [{ bearer: [r.scope] }],
    parameters: [...parameters('path', r.params), ...parameters('query', r.query)],
    responses,
  };
}

/** The document, deterministic (same routes and schemas, same bytes). */
export function openApiDocument(): Json {
  const paths: Record<string, Json> = {};
  for (const r of ROUTES) {
    const path = openApiPath(r.url);
    paths[path] = { ...paths[path], [r.method.toLowerCase()]: operation(r) };
  }
  const registry = z.registry<{ id: string }>();
  for (const [id, schema] of Object.entries(COMPONENTS)) registry.add(schema, { id });
  const { schemas } = z.toJSONSchema(registry, { ...OPTIONS, io: 'output' }) as { schemas: Record<string, Json> };
  const sorted = Object.fromEntries(
    Object.entries(schemas)
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([id, s]) => {
        const { $schema: _, $id: _$id, id: _id, ...rest } = s;
        return [id, rest];
      }),
  );
  const errorResponses = Object.fromEntries(
    Object.entries(ERROR_DESCRIPTIONS).map(([status, description]) => [
      `E${status}`,
      {
        description,
        ...(ERROR_HEADERS[Number(status)] === undefined ? {} : { headers: ERROR_HEADERS[Number(status)] }),
        content: { 'application/json': { schema: { $ref: ref('Error') } } },
      },
    ]),
  );
  return {
    openapi: '3.1.0',
    info: {
      title: 'CRM profile API',
      version: API_VERSION,
      description:
        "Read API over the segmenter's Redis state: a customer's memberships and derived fields (derived at the instant of the read), every customer paged, segment counts, and segment members. Every route but the operational ones needs `Authorization: Bearer <token>` of a token holding the route's scope (listed as the route's bearer security requirement); each token has a rate limit.",
    },
    paths,
    components: {
      securitySchemes: {
        bearer: {
          type: 'http',
          scheme: 'bearer',
          description: `Tokens of the API's tokens file. A route's security requirement lists the scope it needs: ${SCOPES.map((s) => `\`${s}\`, ${SCOPE_DESCRIPTIONS[s]}`).join('; ')}. A token outside its scopes gets 403; over its rate limit, 429.`,
        },
      },
      schemas: sorted,
      responses: errorResponses,
    },
  };
}

/** The document as the checked-in file holds it. */
export function openApiText(): string {
  return `${JSON.stringify(openApiDocument(), null, 2)}\n`;
}

if (import.meta.main && process.argv.includes('--write')) {
  writeFileSync(OPENAPI_FILE, openApiText());
  console.log(`wrote ${OPENAPI_FILE}`);
}
