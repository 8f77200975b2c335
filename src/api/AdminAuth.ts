/**
 * Admin authentication as the contract declares it: the middleware tag (its 401/403 answers and
 * the bearer security scheme) and `adminGroup`, where every admin group starts. Who a request is
 * (the admin token or the dashboard's session) is decided by `http/AdminAuth.ts`.
 */
import * as HttpApiGroup from "@effect/platform/HttpApiGroup"
import * as HttpApiMiddleware from "@effect/platform/HttpApiMiddleware"
import * as HttpApiSecurity from "@effect/platform/HttpApiSecurity"
import { Schema } from "effect"
import { CrossOriginRefused, Unauthorized } from "./ApiErrors.js"

export class AdminAuth extends HttpApiMiddleware.Tag<AdminAuth>()("AdminAuth", {
  failure: Schema.Union(Unauthorized, CrossOriginRefused),
  security: { bearer: HttpApiSecurity.bearer }
}) {}

/**
 * A group of the JSON API behind admin authentication: every group starts here, so the
 * middleware (and its 401/403 answers) is declared once. A group's middleware and errors apply
 * to all its endpoints, whenever they are added.
 */
export const adminGroup = <const Name extends string>(name: Name) => HttpApiGroup.make(name).middleware(AdminAuth)
