/** vitest setup file: after each test file, remove every folder it made with `tempDir()`. */
import { afterAll } from "vitest"
import { removeTempDirs } from "./tmp.js"

afterAll(() => removeTempDirs())
