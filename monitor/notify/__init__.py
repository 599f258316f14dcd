"""Notify: alert intents → routes → outbox → chat robots (WeCom, DingTalk, Feishu, Slack, webhook)."""
