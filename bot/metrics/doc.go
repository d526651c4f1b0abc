// Package metrics implements the shell's Observer and the Bitrefill client's
// Observer with Prometheus collectors, and serves them in the text format.
//
// The family names are a public contract (dashboards and alert rules in
// deploy/ are written against them): refillbot_updates_total{platform},
// refillbot_invoices_created_total{payment_method},
// refillbot_invoices_paid_total, refillbot_orders_delivered_total{product_type},
// refillbot_orders_failed_total, refillbot_outbox_pending,
// refillbot_bitrefill_request_duration_seconds{endpoint},
// refillbot_build_info{version}, plus the Go and process collectors.
//
// Label values come from small closed sets (platform names, payment methods,
// product types, route templates); anything outside a set is counted as
// "other", so a label can never carry an id, a code or a token, and a
// misbehaving input cannot grow the number of series without bound.
//
// It lives apart from package bot so that the shell declares only what it
// observes and never imports a metrics library.
package metrics
