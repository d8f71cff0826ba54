/** GET /v1/hardware: the probed inventory (503 until the probe has run at startup). */
import type { Inventory } from "../../hardware/inventory.js";
import { apiErrors } from "../errors.js";
import { sendJson } from "../respond.js";
import type { Route } from "../routes.js";

export interface HardwareView {
  inventory?: Inventory;
}

export function hardwareRoute(view: HardwareView): Route {
  return {
    method: "GET",
    path: "/v1/hardware",
    async handle(ctx) {
      if (!view.inventory) throw apiErrors.notReady("the hardware probe has not finished");
      sendJson(ctx.res, 200, view.inventory);
    },
  };
}
