/**
 * The functions of serverless.yml as the local stack needs them: each function's handler
 * file and export, and the HTTP routes. Read from the same file that deploys them.
 */
import type { HttpRoute } from './http-gateway';
import { readServerlessDefinition } from './resources';

export interface FunctionHandler {
  /** e.g. `functions/start-recording.ts` */
  file: string;
  exportName: string;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** `handler: functions/start-recording.handler` → file and export, per function name. */
export function readFunctionHandlers(serverlessYmlPath?: string): Record<string, FunctionHandler> {
  const { functions } = readServerlessDefinition(serverlessYmlPath);
  const handlers: Record<string, FunctionHandler> = {};
  for (const [name, definition] of Object.entries(functions)) {
    const handler = isRecord(definition) ? definition.handler : undefined;
    if (typeof handler !== 'string' || !handler.includes('.')) throw new Error(`serverless.yml: function ${name} has no handler`);
    const dot = handler.lastIndexOf('.');
    handlers[name] = { file: `${handler.slice(0, dot)}.ts`, exportName: handler.slice(dot + 1) };
  }
  return handlers;
}

/** Every `httpApi` event, as a route. */
export function readHttpRoutes(serverlessYmlPath?: string): HttpRoute[] {
  const { functions } = readServerlessDefinition(serverlessYmlPath);
  const routes: HttpRoute[] = [];
  for (const [functionName, definition] of Object.entries(functions)) {
    const events = isRecord(definition) && Array.isArray(definition.events) ? definition.events : [];
    for (const event of events) {
      const httpApi = isRecord(event) ? event.httpApi : undefined;
      if (isRecord(httpApi) && typeof httpApi.method === 'string' && typeof httpApi.path === 'string') {
        routes.push({ method: httpApi.method.toUpperCase(), path: httpApi.path, functionName });
      }
    }
  }
  return routes;
}
