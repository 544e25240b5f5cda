/**
 * The risk desk console: one Fastify server with the JSON API under /api/v1 (validated by schema,
 * documented as OpenAPI 3.1 at /api/v1/openapi.json, errors as RFC 9457 problem documents), the live
 * event stream (/api/v1/events) and the dashboard's static files. It reads through the stores it is
 * given and changes state only through the desk (console/desk.ts). Binds to 127.0.0.1 unless told.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import fastifyCookie from '@fastify/cookie';
import fastifyCsrf from '@fastify/csrf-protection';
import fastifySwagger from '@fastify/swagger';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Logger } from 'pino';
import { repoRoot } from '../lib/paths';
import { identityOf, requireRole } from './guards';
import type { ConsoleContext } from './context';
import { DeskRefusal, DeskUnsupported } from './desk';
import { type ChangeSource, EventHub } from './events';
import { PROBLEM_CONTENT_TYPE, Problem } from './problem';
import { actionRoutes } from './routes/actions';
import { readRoutes } from './routes/reads';
import { LoginBody, PortfolioParams } from './schemas';

export interface ConsoleOptions extends ConsoleContext {
  readonly host?: string;
  readonly port?: number;
  readonly logger: Logger;
  readonly changes: ChangeSource;
  /** Secure cookies (HTTPS, or behind a TLS-terminating proxy); off only for plain-HTTP loopback use. */
  readonly secureCookies: boolean;
  /**
   * Signs the cookies and keys the CSRF tokens. Console processes that share sessions share it (kept in
   * Postgres by processes/console.ts); absent, a fresh one per process (cookies die with it).
   */
  readonly secret?: string;
}

export interface RunningConsole {
  readonly app: FastifyInstance;
  readonly url: string;
  readonly events: EventHub;
  close(): Promise<void>;
}

export const SESSION_COOKIE = 'ballast_session';
export const API_PREFIX = '/api/v1';

export async function buildConsole(options: ConsoleOptions): Promise<{ app: FastifyInstance; events: EventHub }> {
  const app = Fastify({
    // Warnings and errors only: a log line per request would drown the desk's own logs.
    loggerInstance: options.logger.child(
      { component: 'console' },
      { level: options.logger.levelVal > 40 ? options.logger.level : 'warn' },
    ) as FastifyBaseLogger,
    bodyLimit: 64 * 1024,
    // Unknown fields are refused, not silently dropped: a typo in a field name must be loud.
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', allErrors: false } },
    trustProxy: false,
  });
  const events = new EventHub(options.changes);
  const secret = options.secret ?? randomBytes(32).toString('hex');
  const derived = (purpose: string): string => createHmac('sha256', secret).update(purpose).digest('hex');

  await app.register(fastifyCookie, { secret: derived('cookie-signing') });
  const cookieBase = { path: '/', httpOnly: true, sameSite: 'strict' as const, secure: options.secureCookies };
  await app.register(fastifyCsrf, {
    cookieKey: 'ballast_csrf',
    cookieOpts: { ...cookieBase, signed: true },
    getToken: (req: FastifyRequest) => {
      const t = req.headers['x-csrf-token'];
      return Array.isArray(t) ? t[0] : t;
    },
    // The token is bound to the person, so a token lifted from one session is worthless in another.
    getUserInfo: (req: FastifyRequest) => req.identity?.name ?? '',
    csrfOpts: { hmacKey: derived('csrf-hmac') },
  });
  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Ballast risk desk console API',
        version: '1.0.0',
        description:
          'Read budgets, utilization, regimes, recommendations, overrides, alerts and gate decisions; approve, override, halt. ' +
          'Every change goes through the same Temporal Update the CLI and the Temporal UI use. Errors are RFC 9457 problem documents.',
      },
      servers: [{ url: '/' }],
      components: {
        securitySchemes: {
          session: { type: 'apiKey', in: 'cookie', name: SESSION_COOKIE, description: 'POST /api/v1/session signs in' },
          proxy: { type: 'apiKey', in: 'header', name: 'X-Forwarded-User', description: 'set by a trusted authenticating proxy' },
          csrf: { type: 'apiKey', in: 'header', name: 'X-CSRF-Token' },
        },
      },
    },
  });

  app.addHook('onRequest', async (req, reply) => {
    req.identity = await options.auth.identify(req.socket.remoteAddress, req.headers, unsignedSession(req));
    reply.header('x-content-type-options', 'nosniff');
    reply.header('referrer-policy', 'no-referrer');
    reply.header('x-frame-options', 'DENY');
    reply.header(
      'content-security-policy',
      "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
    );
    if (req.url.startsWith(API_PREFIX)) reply.header('cache-control', 'no-store');
  });

  app.setErrorHandler((err: Error & { statusCode?: number; code?: string; validation?: unknown }, req, reply) => {
    const problem = toProblem(err);
    if (problem.status >= 500) req.log.error({ err }, 'console request failed');
    return reply.code(problem.status).type(PROBLEM_CONTENT_TYPE).send(problem.document(req.url));
  });
  app.setNotFoundHandler((req, reply) =>
    reply
      .code(404)
      .type(PROBLEM_CONTENT_TYPE)
      .send(new Problem('not-found', `nothing at ${req.method} ${req.url.split('?')[0]}`).document(req.url)),
  );

  await app.register(
    async (api) => {
      api.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
      sessionRoutes(api, options);
      // Everything else under /api/v1 needs a signed-in person.
      api.register(async (authed) => {
        authed.addHook('onRequest', requireRole('viewer'));
        readRoutes(authed, options);
        actionRoutes(authed, options);
        authed.get(
          '/events',
          {
            schema: {
              tags: ['events'],
              summary: 'Server-sent events: budget, control, activity and decisions changes (of one portfolio with ?portfolioId=)',
              querystring: {
                type: 'object',
                properties: { portfolioId: PortfolioParams.properties.portfolioId },
                additionalProperties: false,
              },
            },
          },
          (req, reply) => {
            reply.hijack();
            events.attach(reply.raw, (req.query as { portfolioId?: string }).portfolioId);
          },
        );
      });
    },
    { prefix: API_PREFIX },
  );

  staticRoutes(app);
  app.addHook('onReady', () => events.start());
  // Before the server waits for its connections: an open page's event stream would hold the close up for a minute.
  app.addHook('preClose', () => events.stop());
  return { app, events };
}

export async function startConsole(options: ConsoleOptions): Promise<RunningConsole> {
  const { app, events } = await buildConsole(options);
  const host = options.host ?? '127.0.0.1';
  await app.listen({ host, port: options.port ?? 0 });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  const shownHost = host.includes(':') ? `[${host}]` : host;
  return { app, events, url: `http://${shownHost}:${port}`, close: () => app.close() };
}

function unsignedSession(req: FastifyRequest): string | undefined {
  const raw = req.cookies[SESSION_COOKIE];
  if (!raw) return undefined;
  const unsigned = req.unsignCookie(raw);
  return unsigned.valid && unsigned.value ? unsigned.value : undefined;
}

function sessionRoutes(api: FastifyInstance, options: ConsoleOptions): void {
  const r = api.withTypeProvider<TypeBoxTypeProvider>();
  const cookie = { path: '/', httpOnly: true, sameSite: 'strict' as const, secure: options.secureCookies, signed: true };
  r.post(
    '/session',
    {
      schema: {
        tags: ['session'],
        summary: 'Sign in with the built-in login; answers the person, roles and a CSRF token',
        body: LoginBody,
      },
    },
    async (req, reply) => {
      const session = await options.auth.login(req.body.username, req.body.password);
      if (session === 'throttled')
        throw new Problem('too-many-requests', `too many wrong passwords for ${req.body.username}: try again in 15 minutes`);
      if (!session) throw new Problem('unauthenticated', 'the user name or the password is wrong');
      reply.setCookie(SESSION_COOKIE, session.sessionId, cookie);
      req.identity = session.identity;
      return {
        name: session.identity.name,
        roles: session.identity.roles,
        csrfToken: reply.generateCsrf({ userInfo: session.identity.name }),
      };
    },
  );
  r.get('/session', { schema: { tags: ['session'], summary: 'Who is signed in, with a fresh CSRF token' } }, async (req, reply) => {
    const who = identityOf(req);
    return { name: who.name, roles: who.roles, via: who.via, csrfToken: reply.generateCsrf({ userInfo: who.name }) };
  });
  r.delete(
    '/session',
    { onRequest: [requireRole('viewer'), api.csrfProtection], schema: { tags: ['session'], summary: 'Sign out' } },
    async (req, reply) => {
      await options.auth.logout(unsignedSession(req));
      reply.clearCookie(SESSION_COOKIE, { path: '/' });
      return reply.code(204).send();
    },
  );
}

/** The dashboard's files: a fixed table, so no request path ever reaches the file system. */
function staticRoutes(app: FastifyInstance): void {
  const root = repoRoot();
  const files: Record<string, { file: string; type: string }> = {
    '/': { file: join(root, 'console/static/index.html'), type: 'text/html; charset=utf-8' },
    '/app.js': { file: join(root, 'console/static/app.js'), type: 'text/javascript; charset=utf-8' },
    '/app.css': { file: join(root, 'console/static/app.css'), type: 'text/css; charset=utf-8' },
    '/vendor/uPlot.iife.min.js': { file: join(root, 'node_modules/uplot/dist/uPlot.iife.min.js'), type: 'text/javascript; charset=utf-8' },
    '/vendor/uPlot.min.css': { file: join(root, 'node_modules/uplot/dist/uPlot.min.css'), type: 'text/css; charset=utf-8' },
  };
  for (const [path, { file, type }] of Object.entries(files)) {
    const body = readFileSync(file);
    app.get(path, { schema: { hide: true } }, async (_req, reply: FastifyReply) =>
      reply.type(type).header('cache-control', 'no-cache').send(body),
    );
  }
}

function toProblem(err: Error & { statusCode?: number; code?: string; validation?: unknown }): Problem {
  if (err instanceof Problem) return err;
  if (err instanceof DeskRefusal) return new Problem('conflict', err.message);
  if (err instanceof DeskUnsupported) return new Problem('not-implemented', err.message);
  if (err.code === 'FST_CSRF_MISSING_SECRET' || err.code === 'FST_CSRF_INVALID_TOKEN')
    return new Problem('csrf-rejected', 'send the X-CSRF-Token header that GET /api/v1/session returns, from the console page itself');
  if (err.validation) return new Problem('bad-request', validationSentence(err.message));
  if (err.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return new Problem('unsupported-media-type', 'send the body as application/json');
  if (err.code === 'FST_ERR_CTP_EMPTY_JSON_BODY') return new Problem('bad-request', 'the request needs a JSON body');
  if (err.statusCode === 400) return new Problem('bad-request', `the body is not valid JSON: ${err.message}`);
  if (err.statusCode === 413) return new Problem('bad-request', 'the body is too large');
  return new Problem('internal', 'the console failed to answer; the error is in its log');
}

/** Fastify's "body must have required property 'reason'" reads well already; the prefix names where. */
const validationSentence = (message: string): string =>
  message
    .replace(/^(body|querystring|params)\/?/, '$1 ')
    .replace(/\s+/g, ' ')
    .trim();
