// Command ballast-temporal-server is the Temporal server (frontend, history, matching and worker
// services in one process) built from go.temporal.io/server, with Postgres persistence. It is the
// stock server's start-up path written out in our own main so that Ballast can plug in its own
// Authorizer and ClaimMapper (temporal.WithAuthorizer / temporal.WithClaimMapper), and it carries
// Temporal's SQL schema tool as a subcommand so one build serves both.
//
//	ballast-temporal-server start --config-file config.yaml   run the server until SIGINT/SIGTERM
//	ballast-temporal-server render-config --config-file F     print the config after templating
//	ballast-temporal-server sql-tool [temporal-sql-tool args]  create, set up and update schemas
//	ballast-temporal-server version                           print the Temporal server version
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"slices"
	_ "time/tzdata" // time zones for schedules even where the OS has no zoneinfo

	"go.temporal.io/server/common/authorization"
	"go.temporal.io/server/common/config"
	"go.temporal.io/server/common/headers"
	"go.temporal.io/server/common/log"
	"go.temporal.io/server/common/log/tag"
	_ "go.temporal.io/server/common/persistence/sql/sqlplugin/postgresql" // the postgres12 persistence plugin
	"go.temporal.io/server/common/primitives"
	"go.temporal.io/server/temporal"
	sqltool "go.temporal.io/server/tools/sql"
)

const usage = `usage: ballast-temporal-server <command>
  start --config-file FILE         run all four Temporal services until SIGINT or SIGTERM
  render-config --config-file FILE print the configuration after templating
  sql-tool ARGS...                 Temporal's SQL schema tool (create-database, setup-schema, update-schema)
  version                          print the Temporal server version`

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintf(os.Stderr, "ballast-temporal-server: %v\n", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	if len(args) == 0 {
		return errors.New(usage)
	}
	switch args[0] {
	case "start":
		cfg, err := loadConfig(args[1:])
		if err != nil {
			return err
		}
		return start(cfg)
	case "render-config":
		cfg, err := loadConfig(args[1:])
		if err != nil {
			return err
		}
		fmt.Println(cfg.String())
		return nil
	case "sql-tool":
		return sqltool.RunTool(append([]string{"temporal-sql-tool"}, args[1:]...))
	case "version":
		fmt.Println(headers.ServerVersion)
		return nil
	default:
		return fmt.Errorf("unknown command %q\n%s", args[0], usage)
	}
}

func loadConfig(args []string) (*config.Config, error) {
	flags := flag.NewFlagSet("ballast-temporal-server", flag.ContinueOnError)
	file := flags.String("config-file", os.Getenv(config.EnvKeyConfigFile), "server configuration (YAML; may be a template)")
	if err := flags.Parse(args); err != nil {
		return nil, err
	}
	if *file == "" {
		return nil, errors.New("--config-file is required (or set " + config.EnvKeyConfigFile + ")")
	}
	cfg, err := config.Load(config.WithConfigFile(*file))
	if err != nil {
		return nil, fmt.Errorf("configuration %s: %w", *file, err)
	}
	return cfg, nil
}

func start(cfg *config.Config) error {
	logger := log.NewZapLogger(log.BuildZapLogger(cfg.Log))
	logger.Info("Starting Ballast's Temporal server.",
		tag.String("server-version", headers.ServerVersion),
		tag.NewInt32("history-shards", cfg.Persistence.NumHistoryShards))

	authorizer, claimMapper, err := authorizationFromConfig(cfg, logger)
	if err != nil {
		return err
	}
	server, err := temporal.NewServer(
		temporal.ForServices(servicesToRun(cfg)),
		temporal.WithConfig(cfg),
		temporal.WithLogger(logger),
		temporal.InterruptOn(temporal.InterruptCh()),
		temporal.WithAuthorizer(authorizer),
		temporal.WithClaimMapper(func(*config.Config) authorization.ClaimMapper { return claimMapper }),
	)
	if err != nil {
		return fmt.Errorf("creating the server: %w", err)
	}
	// Start blocks until an interrupt arrives, then stops the services in order.
	if err := server.Start(); err != nil {
		return fmt.Errorf("starting the server: %w", err)
	}
	return nil
}

// servicesToRun is Temporal's four services, plus the internal frontend when the config has one: with
// an authorizer on, the server's own worker service calls that one, which trusts the cluster's own
// callers, instead of the authorizing frontend it holds no token for.
func servicesToRun(cfg *config.Config) []string {
	services := slices.Clone(temporal.DefaultServices)
	if _, ok := cfg.Services[string(primitives.InternalFrontendService)]; ok {
		services = append(services, string(primitives.InternalFrontendService))
	}
	return services
}
