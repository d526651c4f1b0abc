// Package botstore joins the shell to the database. The shell (bot) declares
// the store it needs and storage offers its own record types; neither may
// import the other, so this small package converts between them once, for
// main and for the adapters' end-to-end tests alike.
package botstore
