//go:build loadprofile

package main

// A CPU profile of the running bot for the load benchmark (load_test.go,
// `profile=` knob), compiled only into a binary built with -tags
// loadprofile: the shipped binary has no such switch. The first SIGUSR1
// starts profiling into $REFILLBOT_LOAD_CPUPROFILE, the second stops it and
// renames the finished file into place, so start-up and shutdown stay out.

import (
	"os"
	"os/signal"
	"runtime/pprof"
	"syscall"
)

func init() {
	path := os.Getenv("REFILLBOT_LOAD_CPUPROFILE")
	if path == "" {
		return
	}
	sig := make(chan os.Signal, 2)
	signal.Notify(sig, syscall.SIGUSR1)
	go func() {
		<-sig
		f, err := os.Create(path + ".part")
		if err != nil {
			return
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			f.Close()
			return
		}
		<-sig
		pprof.StopCPUProfile()
		if f.Close() == nil {
			os.Rename(path+".part", path)
		}
	}()
}
