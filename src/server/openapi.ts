// The OpenAPI 3.1 document of the HTTP API, generated from the route table's zod schemas (the
// ones that validate the requests); OpenAPI 3.1 schemas are JSON Schema 2020-12, what zod writes.
import { z } from 'zod';
import { ROUTES, type Response, type Route } from './routes.ts';

type Json = Record<string, unknown>;

function schemaOf(schema: z.ZodType, io: 'input' | 'output'): Json {
  const { $schema: _drop, ...rest } = z.toJSONSchema(schema, {
    io,
    unrepresentable: 'any',
  }) as Json;
  return rest;
}

function parameters(route: Route): Json[] {
  const out: Json[] = [];
  for (const [where, schema] of [
    ['path', route.params],
    ['query', route.query],
  ] as const) {
    if (!schema) continue;
    const json = schemaOf(schema, 'input') as { properties?: Json; required?: string[] };
    for (const [name, property] of Object.entries(json.properties ?? {}))
      out.push({
        name,
        in: where,
        required: where === 'path' || (json.required ?? []).includes(name),
        schema: property,
      });
  }
  return out;
}

function requestBody(route: Route): Json | undefined {
  const content: Json = {};
  if (route.json) content['application/json'] = { schema: schemaOf(route.json, 'input') };
  if (route.multipart)
    content['multipart/form-data'] = { schema: schemaOf(route.multipart, 'input') };
  return Object.keys(content).length ? { required: true, content } : undefined;
}

function response(r: Response): Json {
  const type = r.events ? 'text/event-stream' : (r.contentType ?? 'application/json');
  return {
    description: r.description,
    ...(r.schema || r.contentType || r.events
      ? { content: { [type]: r.schema ? { schema: schemaOf(r.schema, 'output') } : {} } }
      : {}),
  };
}

/** `auth`: the server requires a bearer token on every route but the public ones. */
export function openApiDocument(version: string, auth: boolean): Json {
  const paths: Record<string, Json> = {};
  for (const route of ROUTES) {
    const body = requestBody(route);
    const params = parameters(route);
    (paths[route.path] ??= {})[route.method] = {
      operationId: route.operationId,
      summary: route.summary,
      ...(route.description ? { description: route.description } : {}),
      ...(auth && route.public ? { security: [] } : {}),
      ...(params.length ? { parameters: params } : {}),
      ...(body ? { requestBody: body } : {}),
      responses: Object.fromEntries(
        Object.entries(route.responses).map(([status, r]) => [status, response(r)]),
      ),
    };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'metallmix',
      version,
      description:
        'Zero-shot recommendations of a pretrained model and fine-tuning hyperparameters for an image classification dataset, from a knowledge base of past runs. The same operations as the metallmix CLI.',
    },
    jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
    ...(auth
      ? {
          components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
          security: [{ bearer: [] }],
        }
      : {}),
    paths,
  };
}
