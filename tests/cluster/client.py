"""Talking to the cluster as its users and its operator do: REST through nginx (with the REST token), or
straight to one Rasa server; the stored conversation read from PostgreSQL itself."""

from __future__ import annotations

import json
import uuid

import psycopg2
import requests

from liptwitch.operations.cluster import Cluster


def new_conversation(prefix: str = "cluster") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def texts(messages: list[dict]) -> str:
    return "\n".join(m.get("text", "") for m in messages)


class ClusterClient:
    def __init__(self, cluster: Cluster) -> None:
        self.cluster = cluster
        self.auth = {"Authorization": f"Bearer {cluster.secrets['LIPTWITCH_REST_TOKEN']}"}

    def post(self, sender: str, message: str, server: int | None = None, timeout: float = 90,
             **kwargs) -> requests.Response:
        """Through nginx, or to Rasa server `server` (0 or 1) directly."""
        if server is None:
            url, headers = f"{self.cluster.url}/webhooks/rest/webhook", self.auth
        else:
            url, headers = f"{self.cluster.rasa_urls[server]}/webhooks/rest/webhook", self.auth  # Rasa checks it too
        # A message id of its own, as a client should send: if nginx has to repeat the request on the other
        # server, the turn is not run twice (liptwitch.channels.rest.Rest).
        body = {"sender": sender, "message": message, "message_id": uuid.uuid4().hex}
        return requests.post(url, json=body, headers=headers, timeout=timeout, **kwargs)

    def send(self, sender: str, message: str, server: int | None = None) -> list[dict]:
        response = self.post(sender, message, server)
        assert response.status_code == 200, f"{response.status_code}: {response.text[:300]}"
        return response.json()

    def stored_events(self, sender: str) -> list[tuple[str, dict]]:
        """(type, data) of each stored event of `sender`, in the order PostgreSQL keeps them."""
        connection = psycopg2.connect(host="127.0.0.1", port=self.cluster.postgres_port, dbname=self.cluster.database,
                                      user=self.cluster.db_user, password=self.cluster.secrets["POSTGRES_PASSWORD"])
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT type_name, data FROM events WHERE sender_id = %s ORDER BY id", (sender,))
                return [(kind, json.loads(data)) for kind, data in cursor.fetchall()]
        finally:
            connection.close()

    def stored_user_texts(self, sender: str) -> list[str]:
        return [data.get("text") for kind, data in self.stored_events(sender) if kind == "user"]
