/**
 * Lingering close, as nginx does it: an answer given before the request's body was read (401, 413,
 * 503) must reach the sender. Closing a connection while the sender's bytes are still arriving
 * makes the kernel answer them with a reset, and a reset can overtake the answer. So when Node
 * would close such a connection (the sender asked for `Connection: close`), it half-closes
 * instead: our side ends after the answer, and what the sender still sends is read and dropped
 * until it stops (5 s of silence) or for 30 s at most, then the connection closes. On a kept-alive
 * connection Node itself reads the rest of the body and drops it.
 */
import type * as Http from "node:http"
import type * as Net from "node:net"

const IDLE_MS = 5_000
const MAX_MS = 30_000

/** Call before answering `req` early (its body unread): its connection lingers instead of resetting. */
export const lingerIfUnread = (req: Http.IncomingMessage): void => {
  if (req.complete) return
  const socket = req.socket as Net.Socket & { destroySoon?: () => void }
  socket.destroySoon = function lingering(this: Net.Socket) {
    if (this.writable) this.end()
    const stop = () => this.destroy()
    const idle = setTimeout(stop, IDLE_MS)
    const cap = setTimeout(stop, MAX_MS)
    idle.unref()
    cap.unref()
    this.on("data", () => void idle.refresh())
    this.once("end", stop)
    this.once("close", () => {
      clearTimeout(idle)
      clearTimeout(cap)
    })
    this.resume()
  }
}
