"""Getting mail out: the outbox (enqueue, lease, send, retry), composing a message, the
notices a report causes, one-click unsubscribe. Knows nothing of watches or digests."""
