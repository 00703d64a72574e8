/**
 * A small stand-in for API Gateway's HTTP API (payload 2.0) that calls the Lambda handlers
 * in-process: the routes of serverless.yml, the same event and result shapes. The tests use
 * it to drive the real handlers over real HTTP without building bundles; `npm start` uses
 * serverless-offline instead, which builds and runs the bundles as Lambda would.
 *
 * What it keeps of API Gateway: route matching with `{param}` segments, lower-cased headers
 * joined by commas, a 10 MB payload limit, `{"message":"Not Found"}` for an unknown route,
 * `{"message":"Bad Request"}` for a path parameter with a malformed percent-escape, and
 * `{"message":"Internal Server Error"}` when a handler throws or answers nonsense. It does not
 * enforce the 30 s integration timeout.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { APIGatewayProxyEventV2, APIGatewayProxyResultV2, Context } from 'aws-lambda';

/** API Gateway refuses larger payloads before any Lambda runs. */
export const MAX_PAYLOAD_BYTES = 10 * 1024 * 1024;

export interface HttpRoute {
  method: string;
  /** e.g. `/recordings/{id}/stop` */
  path: string;
  functionName: string;
}

// A Lambda handler of any event; the gateway only calls HTTP ones.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type LambdaHandler = (event: any, context: Context) => Promise<unknown>;

export interface HttpGatewayOptions {
  routes: readonly HttpRoute[];
  handlerFor: (functionName: string) => Promise<LambdaHandler>;
  host?: string;
  port?: number;
  /** Called when a handler throws (API Gateway would log it and answer 500). */
  onHandlerError?: (functionName: string, error: unknown) => void;
}

export interface HttpGateway {
  url: string;
  port: number;
  close(): Promise<void>;
}

interface CompiledRoute extends HttpRoute {
  pattern: RegExp;
  names: string[];
}

function compile(route: HttpRoute): CompiledRoute {
  const names: string[] = [];
  const source = route.path
    .split('/')
    .map((segment) => {
      const param = /^\{(\w+)\}$/.exec(segment);
      if (!param?.[1]) return segment.replace(/[.*+?^$()|[\]\\]/g, '\\$&');
      names.push(param[1]);
      return '([^/]+)';
    })
    .join('/');
  return { ...route, names, pattern: new RegExp(`^${source}$`) };
}

/** A Lambda context good enough for handlers that read the request id and remaining time. */
export function lambdaContext(functionName: string, timeoutMs = 30_000): Context {
  const deadline = Date.now() + timeoutMs;
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:us-east-1:000000000000:function:${functionName}`,
    memoryLimitInMB: '512',
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

/**
 * The request target as a URL, or undefined when it is not one. An origin-form target is
 * read as a path on a fixed base, so that `//x` stays a path (`new URL('//x', base)` would
 * take `x` for a host, and `//` alone throws).
 */
function requestUrl(target: string): URL | undefined {
  try {
    return target.startsWith('/') ? new URL(`http://local${target}`) : new URL(target);
  } catch {
    return undefined;
  }
}

/** A path parameter decoded as API Gateway does; undefined for a malformed percent-escape (`%ZZ`, `%C3`). */
function decodePathParameter(raw: string): string | undefined {
  try {
    return decodeURIComponent(raw);
  } catch {
    return undefined;
  }
}

function send(response: ServerResponse, statusCode: number, body: string, headers: Record<string, string> = {}): void {
  response.writeHead(statusCode, { 'content-type': 'application/json', ...headers });
  response.end(body);
}

async function readBody(request: IncomingMessage): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > MAX_PAYLOAD_BYTES) return undefined;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

function isTextual(contentType: string | undefined): boolean {
  return !contentType || /^(text\/|application\/([\w.+-]+\+)?(json|xml|x-www-form-urlencoded))/i.test(contentType);
}

/** The HTTP API v2 event for a request, as API Gateway builds it. */
export function toEventV2(request: IncomingMessage, url: URL, routeKey: string, pathParameters: Record<string, string>, body: Buffer): APIGatewayProxyEventV2 {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.headers)) {
    if (value !== undefined) headers[name.toLowerCase()] = Array.isArray(value) ? value.join(',') : value;
  }
  const query: Record<string, string> = {};
  for (const [name, value] of url.searchParams) query[name] = name in query ? `${query[name]},${value}` : value;
  const textual = isTextual(headers['content-type']);
  const now = Date.now();
  return {
    version: '2.0',
    routeKey,
    rawPath: url.pathname,
    rawQueryString: url.search.replace(/^\?/, ''),
    headers,
    ...(Object.keys(query).length > 0 ? { queryStringParameters: query } : {}),
    ...(Object.keys(pathParameters).length > 0 ? { pathParameters } : {}),
    ...(body.length > 0 ? { body: textual ? body.toString('utf8') : body.toString('base64') } : {}),
    isBase64Encoded: body.length > 0 && !textual,
    requestContext: {
      accountId: '000000000000',
      apiId: 'local',
      domainName: headers.host ?? 'localhost',
      domainPrefix: 'local',
      http: {
        method: request.method ?? 'GET',
        path: url.pathname,
        protocol: `HTTP/${request.httpVersion}`,
        sourceIp: request.socket.remoteAddress ?? '127.0.0.1',
        userAgent: headers['user-agent'] ?? '',
      },
      requestId: randomUUID(),
      routeKey,
      stage: '$default',
      time: new Date(now).toUTCString(),
      timeEpoch: now,
    },
  };
}

function writeResult(response: ServerResponse, result: APIGatewayProxyResultV2): void {
  if (typeof result !== 'object' || result === null || typeof result.statusCode !== 'number') {
    // Payload 2.0 would wrap a bare value as a 200 JSON body; our handlers never return one.
    send(response, 200, JSON.stringify(result ?? null));
    return;
  }
  const body = result.body === undefined ? '' : result.isBase64Encoded ? Buffer.from(result.body, 'base64') : result.body;
  response.writeHead(result.statusCode, Object.fromEntries(Object.entries(result.headers ?? {}).map(([k, v]) => [k, String(v)])));
  response.end(body);
}

export async function startHttpGateway(options: HttpGatewayOptions): Promise<HttpGateway> {
  const routes = options.routes.map(compile);
  const server = createServer(async (request, response) => {
    try {
      const url = requestUrl(request.url ?? '/');
      if (!url) {
        request.resume();
        send(response, 400, JSON.stringify({ message: 'Bad Request' }));
        return;
      }
      const method = (request.method ?? 'GET').toUpperCase();
      let matched: { route: CompiledRoute; params: Record<string, string> } | undefined;
      let undecodable = false;
      for (const route of routes) {
        const found = route.method.toUpperCase() === method ? route.pattern.exec(url.pathname) : null;
        if (found) {
          const params: Record<string, string> = {};
          route.names.forEach((name, index) => {
            const value = decodePathParameter(found[index + 1] ?? '');
            if (value === undefined) undecodable = true;
            else params[name] = value;
          });
          matched = { route, params };
          break;
        }
      }
      if (undecodable) {
        // A client's malformed escape, not a server fault: refused before any handler runs.
        request.resume();
        send(response, 400, JSON.stringify({ message: 'Bad Request' }));
        return;
      }
      if (!matched) {
        request.resume();
        send(response, 404, JSON.stringify({ message: 'Not Found' }));
        return;
      }
      const body = await readBody(request);
      if (body === undefined) {
        send(response, 413, JSON.stringify({ message: 'Request Entity Too Large' }));
        request.destroy();
        return;
      }
      const { route, params } = matched;
      const event = toEventV2(request, url, `${route.method} ${route.path}`, params, body);
      const handler = await options.handlerFor(route.functionName);
      let result: unknown;
      try {
        result = await handler(event, lambdaContext(route.functionName));
      } catch (error) {
        options.onHandlerError?.(route.functionName, error);
        send(response, 500, JSON.stringify({ message: 'Internal Server Error' }));
        return;
      }
      writeResult(response, result as APIGatewayProxyResultV2);
    } catch (error) {
      options.onHandlerError?.('gateway', error);
      if (!response.headersSent) send(response, 500, JSON.stringify({ message: 'Internal Server Error' }));
      else response.destroy();
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${options.host ?? '127.0.0.1'}:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
