// Package metricstest reads a /metrics answer the way Prometheus does (its
// own text parser), for tests that check families, counts and labels.
package metricstest
