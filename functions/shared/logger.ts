import { Logger } from '@aws-lambda-powertools/logger';

/**
 * The structured JSON logger every function uses (Powertools). It never receives keys: the auth code logs
 * nothing about them, and request headers are not logged.
 */
export const logger = new Logger({ serviceName: 'normalcy' });
