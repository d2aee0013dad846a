// The event types and job kinds, from the generated schema: a misspelt event name or job kind
// is a type error, and `e.type === 'job.progress'` narrows `e.data` to that event's payload.
import type { EventRecord, LogEntry, Schemas } from './api/client';

export type { EventRecord };
export type DomainEvent = Schemas['DomainEvent'];
export type EventType = DomainEvent['type'];
export type JobKind = Schemas['JobKind'];

/** A stored or live event of one type. */
export type EventOf<T extends EventType> = Extract<EventRecord, { type: T }>;

/** A log line on the socket (asked for with `?logs=`): live only, never stored. */
export type LogMessage = { type: 'log'; id?: null; subject?: null; timestamp: LogEntry['timestamp']; data: LogEntry };

/** Whatever the WebSocket sends. */
export type Envelope = EventRecord | LogMessage;

type Prefix<T> = T extends `${infer P}.${string}` ? `${P}.*` : never;
/** What a listener subscribes to: one event type, a prefix (`job.*`), log lines, or everything. */
export type Topic = EventType | Prefix<EventType> | 'log' | '*';

/** The envelopes a topic delivers. */
export type Delivered<T extends Topic> = T extends '*'
	? Envelope
	: T extends 'log'
		? LogMessage
		: T extends `${infer P}.*`
			? Extract<EventRecord, { type: `${P}.${string}` }>
			: Extract<EventRecord, { type: T }>;

/** Spelled-out topic lists keep their literal types (`as const` would make them readonly). */
export const topics = <T extends Topic>(...t: T[]): T[] => t;

/** Whether an envelope falls under a prefix (`job.*`), narrowing it as a listener's topic does. */
export function under<P extends Prefix<EventType>>(e: Envelope, prefix: P): e is Delivered<P> {
	return e.type.startsWith(prefix.slice(0, -1));
}
