/**
 * The event an ALB passes to a Lambda target and the result it expects back (Elastic Load Balancing guide,
 * "Lambda functions as targets"). Types only, so the bundled function and the local ALB share them at no cost.
 */

/** The request event. Exactly one of the single-value and multi-value shapes is present, set by the target group. */
export interface AlbEvent {
  requestContext: { elb: { targetGroupArn: string } };
  httpMethod: string;
  /** Path without the query string, not decoded. */
  path: string;
  /** Single-value mode: last value per key, keys and values still URL-encoded. */
  queryStringParameters?: Record<string, string>;
  /** Multi-value mode: every value per key, still URL-encoded. */
  multiValueQueryStringParameters?: Record<string, string[]>;
  /** Single-value mode: lowercase names, last value per name. */
  headers?: Record<string, string>;
  /** Multi-value mode: lowercase names, every value in order. */
  multiValueHeaders?: Record<string, string[]>;
  /** Text, or base64 when isBase64Encoded is true; "" without a body. */
  body: string;
  isBase64Encoded: boolean;
}

/** The result a function returns. `headers` in single-value mode, `multiValueHeaders` in multi-value mode. */
export interface AlbResult {
  statusCode: number;
  statusDescription?: string;
  headers?: Record<string, string>;
  multiValueHeaders?: Record<string, string[]>;
  body?: string;
  isBase64Encoded?: boolean;
}

/** The part of the Lambda context object the local ALB fills in. */
export interface LambdaContext {
  functionName: string;
  awsRequestId: string;
  invokedFunctionArn: string;
  getRemainingTimeInMillis(): number;
}
