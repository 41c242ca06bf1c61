// What a virtual NIC needs from the network behind it: hand over a frame it transmitted, and
// take the frames waiting for it when it polls. Switch ports and host endpoints provide it.

export interface NetBackend {
  /**
   * Offers one Ethernet frame (no FCS) the NIC transmitted. The backend copies what it keeps,
   * so the caller may reuse the buffer. Returns false when the frame was dropped (counted by
   * the backend, never thrown).
   */
  send(frame: Uint8Array): boolean;
  /** Removes and returns the oldest frame waiting for the NIC, or undefined when none is. */
  receive(): Uint8Array | undefined;
  /** How many frames are waiting. */
  readonly pending: number;
  /**
   * Calls `listener` each time a frame is queued for the NIC, so a sleeping VM can be woken.
   * It runs inside the sender's `send()`: it should only note the fact, not receive or send.
   * Returns a function that removes the listener.
   */
  onReceive(listener: () => void): () => void;
}
