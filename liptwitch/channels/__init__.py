"""The channels people reach the assistant on: one module per platform (rest, web, telegram, slack, messenger,
twilio) over a small shared base (base: never silent, send retries, the server's start and stop hooks).
Configured in credentials.yml by class path, e.g. `liptwitch.channels.rest.Rest`."""
