/** The OpenAPI side of the error bodies (`http/ErrorBodies.ts`): every error schema becomes `{ error: string, … }` like the answers. */
export const errorBodiesInOpenApi = (spec: Record<string, any>): Record<string, any> => {
  const schemas = spec.components?.schemas ?? {}
  for (const [name, schema] of Object.entries<any>(schemas)) {
    const props = schema?.properties
    if (props === undefined || props._tag === undefined || props.message === undefined) continue
    const { _tag, message, issues, ...rest } = props
    void _tag, void message, void issues
    schemas[name] = {
      ...schema,
      required: ["error", ...(schema.required ?? []).filter((k: string) => !["_tag", "message", "issues"].includes(k))],
      properties: { error: { type: "string", description: "what was wrong, in one line" }, ...rest }
    }
  }
  return spec
}
