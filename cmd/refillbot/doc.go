// Command refillbot runs the bot: it reads the configuration from flags and the
// environment, builds the Bitrefill client (or the in-process sandbox), the
// store and the chat adapters, hands them to package bot, and shuts everything
// down cleanly on SIGINT or SIGTERM. With no configuration at all it runs the
// sandbox in the terminal, which is the newcomer's first experience.
//
// With REFILLBOT_DATABASE_URL the store is PostgreSQL and the process is one
// replica of the bot (replicas.go): it runs Telegram's long polling, the
// Discord gateway and the scheduled jobs only while it leads them.
// `refillbot migrate` (migrate.go) moves a bbolt shop into PostgreSQL.
//
// This is the only package that knows every concrete type; the compile-time
// checks that the adapters satisfy the shell's interfaces live here.
package main
