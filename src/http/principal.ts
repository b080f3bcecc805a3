import type { components } from '../../generated/openapi';

export type Role = components['schemas']['UserRole'];

/** The authenticated caller, as the router hands it to handlers. */
export interface Principal {
  id: number;
  username: string;
  role: Role;
}

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Request {
      /** Set by the bearer security handler when a valid access token was presented. */
      principal?: Principal;
      /** Set when a presented token was refused; reported instead of the validator's generic 401. */
      authFailure?: Error;
      /** The raw JSON body, kept for signature checks (webhooks). */
      rawBody?: Buffer;
    }
  }
}
