"""The duty wall: metrics of what officers care about, the dashboards that show them, and a
picture of the wall rendered from Prometheus."""
