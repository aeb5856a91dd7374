/** Creates HTTP upstream targets for the stack from their configuration (see src/targets/http.ts). */
import type { EdgelockConfig } from "../config/index.ts";
import type { Logger } from "../shared/logger.ts";
import { createHttpTarget } from "../targets/index.ts";
import type { TargetContext } from "./targets.ts";

/** Returns the factory the stack uses for `type: "http"` targets. */
export function httpTargetFactory(config: EdgelockConfig, logger: Logger): NonNullable<TargetContext["createHttpTarget"]> {
  return (name, target) => {
    const http = createHttpTarget({
      name,
      url: target.url,
      healthCheck: target.healthCheck,
      logger: logger.child({ stage: "target", target: name }),
      idleTimeoutSeconds: config.alb.attributes.idleTimeoutSeconds,
      preserveHostHeader: config.alb.attributes.preserveHostHeader,
      targetGroupArn: `arn:aws:elasticloadbalancing:local:000000000000:targetgroup/${config.name}-${name}/0123456789abcdef`,
    });
    return { target: http, start: () => http.start(), stop: () => http.stop() };
  };
}
