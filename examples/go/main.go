// A minimal OMS client of the Ballast gate in Go, on the code generated from proto/ by the official
// plugins (./generate.sh): it sizes an order (SizePosition), asks for it (EvaluateTrade), reports its
// fill (ReportFill), then follows the portfolio's rebalancing plans (WatchRebalancePlans), accepting
// each open one (AckRebalancePlan). It prints one JSON document on stdout. Run by
// test/integration/examples/goClient.test.ts against a real gate.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	gatev1 "github.com/ballast/ballast/examples/go/gen/ballast/gate/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

type planSeen struct {
	PlanID        string `json:"planId"`
	Sequence      uint64 `json:"sequence"`
	BudgetVersion uint32 `json:"budgetVersion"`
	State         string `json:"state"`
	Accepted      bool   `json:"accepted"`
	Orders        int    `json:"orders"`
}

type result struct {
	SizedQuantity float64    `json:"sizedQuantity"`
	BindingLimit  string     `json:"bindingLimit"`
	Decision      string     `json:"decision"`
	BudgetVersion int32      `json:"budgetVersion"`
	FillRecorded  bool       `json:"fillRecorded"`
	Plans         []planSeen `json:"plans"`
}

func main() {
	address := flag.String("gate", "127.0.0.1:50051", "the gate (host:port)")
	portfolio := flag.String("portfolio", "demo", "the portfolio")
	strategy := flag.String("strategy", "core", "the strategy")
	instrument := flag.String("instrument", "", "the instrument")
	price := flag.Float64("price", 100, "limit price, base currency per unit")
	quantity := flag.Float64("quantity", 10, "units to buy")
	plans := flag.Int("plans", 1, "rebalancing plans to follow before exiting")
	flag.Parse()
	if err := run(*address, *portfolio, *strategy, *instrument, *price, *quantity, *plans); err != nil {
		fmt.Fprintln(os.Stderr, "ballast-go-client:", err)
		os.Exit(1)
	}
}

func run(address, portfolio, strategy, instrument string, price, quantity float64, planCount int) error {
	conn, err := grpc.NewClient(address, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return err
	}
	defer conn.Close()
	gate := gatev1.NewGateServiceClient(conn)
	plans := gatev1.NewPlanServiceClient(conn)
	out := result{}

	// Unary calls take milliseconds: a 5 s deadline is ample, and every one of them is safe to retry
	// except EvaluateTrade, whose client_order_id makes a retry a refused duplicate rather than a second order.
	unary := func() (context.Context, context.CancelFunc) {
		return context.WithTimeout(context.Background(), 5*time.Second)
	}
	order := &gatev1.Order{PortfolioId: portfolio, Strategy: strategy, Instrument: instrument, Side: gatev1.Side_SIDE_BUY, Quantity: quantity, Price: price}

	ctx, cancel := unary()
	sized, err := gate.SizePosition(ctx, &gatev1.SizePositionRequest{Order: order})
	cancel()
	if err != nil {
		return fmt.Errorf("SizePosition: %w", err)
	}
	out.SizedQuantity, out.BindingLimit = sized.ApprovedQuantity, sized.BindingLimit.String()

	order.Quantity = sized.ApprovedQuantity
	order.ClientOrderId = fmt.Sprintf("go-%d", time.Now().UnixNano())
	ctx, cancel = unary()
	decided, err := gate.EvaluateTrade(ctx, &gatev1.EvaluateTradeRequest{Order: order})
	cancel()
	if err != nil {
		return fmt.Errorf("EvaluateTrade: %w", err)
	}
	out.Decision, out.BudgetVersion = decided.Decision.String(), decided.BudgetVersion

	if decided.Decision == gatev1.Decision_DECISION_APPROVE {
		ctx, cancel = unary()
		_, err = gate.ReportFill(ctx, &gatev1.ReportFillRequest{
			PortfolioId: portfolio, Strategy: strategy, Instrument: instrument, Side: gatev1.Side_SIDE_BUY,
			ClientOrderId: order.ClientOrderId, FillId: order.ClientOrderId + "-f1", Quantity: order.Quantity, Price: price, OrderDone: true,
		})
		cancel()
		if err != nil {
			return fmt.Errorf("ReportFill: %w", err)
		}
		out.FillRecorded = true
	}

	// The plan stream never ends by itself: no deadline, cancelled once enough plans were seen.
	streamCtx, stop := context.WithCancel(context.Background())
	defer stop()
	stream, err := plans.WatchRebalancePlans(streamCtx, &gatev1.WatchRebalancePlansRequest{PortfolioId: portfolio, AfterSequence: 0})
	if err != nil {
		return fmt.Errorf("WatchRebalancePlans: %w", err)
	}
	for len(out.Plans) < planCount {
		msg, err := stream.Recv()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("WatchRebalancePlans: %w", err)
		}
		plan := msg.GetPlan()
		if plan == nil {
			continue // a keepalive
		}
		seen := planSeen{PlanID: plan.PlanId, Sequence: plan.Sequence, BudgetVersion: plan.BudgetVersion, State: plan.State.String(), Orders: len(plan.Orders)}
		if plan.State == gatev1.PlanState_PLAN_STATE_OPEN {
			// Accept before executing: refused (FAILED_PRECONDITION) if a newer plan superseded it meanwhile.
			ctx, cancel = unary()
			_, err := plans.AckRebalancePlan(ctx, &gatev1.AckRebalancePlanRequest{PlanId: plan.PlanId, Outcome: gatev1.AckOutcome_ACK_OUTCOME_ACCEPTED})
			cancel()
			seen.Accepted = err == nil
		}
		out.Plans = append(out.Plans, seen)
	}
	return json.NewEncoder(os.Stdout).Encode(out)
}
