// Command truce verifies a ceasefire and coordinates the security
// guarantees around it. See README.md and `truce help`.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/truce-dev/truce/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Main(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
