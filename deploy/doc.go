// Package deploy holds the files that run refillbot in production — the
// compose file, the systemd unit, the Grafana dashboard and the Prometheus
// alert rules — and a test that keeps the dashboard and the rules written
// against metric families the bot really exports. It has no code of its own;
// deploy/check verifies the Dockerfile and the unit.
package deploy
