/** Creates HTTP upstream targets for the stack; see src/targets/http.ts. */
import type { Logger } from "../shared/logger.ts";
import type { TargetContext } from "./targets.ts";
import { EdgelockError } from "../shared/errors.ts";

/** Returns the factory the stack uses for `type: "http"` targets. */
export function httpTargetFactory(_logger: Logger): NonNullable<TargetContext["createHttpTarget"]> {
  return (name) => {
    throw new EdgelockError("ERR_TARGET_HTTP", `targets.${name}: HTTP targets are not available yet`);
  };
}
