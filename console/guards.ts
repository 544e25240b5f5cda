/** Who may pass: the signed-in person on each request, and the role a route needs. */
import type { FastifyRequest } from 'fastify';
import { type Identity, type Role, hasRole } from './auth';
import { Problem } from './problem';

declare module 'fastify' {
  interface FastifyRequest {
    identity?: Identity;
  }
}

/** The signed-in person; routes behind `requireRole` always have one. */
export function identityOf(req: FastifyRequest): Identity {
  if (!req.identity) throw new Problem('unauthenticated', 'sign in to use the console API');
  return req.identity;
}

/** An onRequest hook: 401 without an identity, 403 without the role. */
export function requireRole(role: Role) {
  return async (req: FastifyRequest): Promise<void> => {
    const who = identityOf(req);
    if (!hasRole(who, role))
      throw new Problem('forbidden', `${who.name} has the roles [${who.roles.join(', ') || 'viewer'}]; this needs ${role}`);
  };
}
