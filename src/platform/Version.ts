/** The version of this code, as package.json says (recorded with every batch run, shown by the CLI and the API). */
import * as Fs from "node:fs"
import { rootFilePath } from "./Assets.js"

export const CODE_VERSION: string = (() => {
  try {
    return String(JSON.parse(Fs.readFileSync(rootFilePath("package.json"), "utf8")).version)
  } catch {
    return "unknown"
  }
})()
