"""Locust scenario for the corpus: stepped user counts so the history shows plateaus."""

from locust import HttpUser, LoadTestShape, between, task


class ScoringUser(HttpUser):
    wait_time = between(0.05, 0.15)

    @task(3)
    def score(self):
        self.client.get("/score")

    @task(1)
    def health(self):
        self.client.get("/health")


class Steps(LoadTestShape):
    steps = [(5, 4), (10, 8), (20, 12), (40, 16), (60, 20)]  # (users, until second)

    def tick(self):
        t = self.get_run_time()
        for users, until in self.steps:
            if t < until:
                return users, 50
        return None
