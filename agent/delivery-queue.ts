/**
 * A bounded, ordered queue of payloads waiting to be delivered. When full, the oldest payload is dropped and
 * counted: a dead server costs the oldest data, never the newest, and never silently.
 */
export class DeliveryQueue<Payload> {
  private readonly items: Payload[] = [];
  private droppedCount = 0;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1)
      throw new RangeError('capacity must be a positive integer');
  }

  /**
   * Adds a payload at the back; returns how many old payloads were dropped to make room. With `keepFront`
   * (the front payload is being sent) the oldest after it goes instead.
   */
  push(payload: Payload, keepFront = false): number {
    this.items.push(payload);
    let dropped = 0;
    const victim = keepFront ? 1 : 0;
    while (this.items.length > this.capacity && this.items.length > victim + 1) {
      this.items.splice(victim, 1);
      dropped += 1;
    }
    this.droppedCount += dropped;
    return dropped;
  }

  peek(): Payload | undefined {
    return this.items[0];
  }

  /** Replaces the front payload, if it is still `front`, by `parts` (in order): a payload split in two. */
  replaceFront(front: Payload, parts: readonly Payload[]): void {
    if (this.items[0] === front) this.items.splice(0, 1, ...parts);
  }

  /** Removes the front payload (after it was delivered or refused for good). */
  shift(): Payload | undefined {
    return this.items.shift();
  }

  get length(): number {
    return this.items.length;
  }

  /** Payloads dropped since start because the queue was full. */
  get dropped(): number {
    return this.droppedCount;
  }
}

/** Exponential backoff with full jitter: a random delay in [0, min(cap, base·2^attempt)]. */
export function backoffDelay(attempt: number, baseMs = 1000, capMs = 60_000, random = Math.random): number {
  return Math.round(random() * Math.min(capMs, baseMs * 2 ** attempt));
}
