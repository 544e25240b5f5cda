package main

import (
	"context"
	"encoding/base64"
	"testing"

	"go.temporal.io/api/batch/v1"
	updatepb "go.temporal.io/api/update/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/server/common/authorization"
)

const signalAPI = "/temporal.api.workflowservice.v1.WorkflowService/SignalWorkflowExecution"

func writer(subject string, roles ...string) *authorization.Claims {
	return &authorization.Claims{
		Subject:    subject,
		Namespaces: map[string]authorization.Role{"default": authorization.RoleWriter},
		Extensions: ballastRoles(roles),
	}
}

func update(name string) *workflowservice.UpdateWorkflowExecutionRequest {
	return &workflowservice.UpdateWorkflowExecutionRequest{
		Namespace: "default",
		Request:   &updatepb.Request{Input: &updatepb.Input{Name: name}},
	}
}

func TestApprovalMessagesNeedTheApproverRole(t *testing.T) {
	authorizer := newApproverAuthorizer(authorization.NewDefaultAuthorizer(), defaultApprovalMessages)
	cases := []struct {
		name    string
		api     string
		request any
		claims  *authorization.Claims
		allowed bool
	}{
		{"approve Signal by an approver", signalAPI, &workflowservice.SignalWorkflowExecutionRequest{Namespace: "default", SignalName: "approve"}, writer("ana", "approver"), true},
		{"approve Signal by an operator", signalAPI, &workflowservice.SignalWorkflowExecutionRequest{Namespace: "default", SignalName: "approve"}, writer("oscar", "operator"), false},
		{"approve Update without roles", "/temporal.api.workflowservice.v1.WorkflowService/UpdateWorkflowExecution", update("approveRecommendation"), writer("oscar"), false},
		{"override Update by an approver", "/temporal.api.workflowservice.v1.WorkflowService/UpdateWorkflowExecution", update("overrideLimit"), writer("ana", "approver"), true},
		{"pause Update by an operator", "/temporal.api.workflowservice.v1.WorkflowService/UpdateWorkflowExecution", update("pauseLoop"), writer("oscar", "operator"), true},
		{"approval by Update-with-Start", "/temporal.api.workflowservice.v1.WorkflowService/ExecuteMultiOperation", &workflowservice.ExecuteMultiOperationRequest{
			Namespace: "default",
			Operations: []*workflowservice.ExecuteMultiOperationRequest_Operation{
				{Operation: &workflowservice.ExecuteMultiOperationRequest_Operation_StartWorkflow{StartWorkflow: &workflowservice.StartWorkflowExecutionRequest{}}},
				{Operation: &workflowservice.ExecuteMultiOperationRequest_Operation_UpdateWorkflow{UpdateWorkflow: update("rejectRecommendation")}},
			},
		}, writer("oscar", "operator"), false},
		{"approval by batch Signal", "/temporal.api.workflowservice.v1.WorkflowService/StartBatchOperation", &workflowservice.StartBatchOperationRequest{
			Namespace: "default",
			Operation: &workflowservice.StartBatchOperationRequest_SignalOperation{SignalOperation: &batch.BatchOperationSignal{Signal: "approve"}},
		}, writer("oscar", "operator"), false},
		{"approver without namespace write access", signalAPI, &workflowservice.SignalWorkflowExecutionRequest{Namespace: "default", SignalName: "approve"}, &authorization.Claims{Subject: "ana", Extensions: ballastRoles{"approver"}}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			result, err := authorizer.Authorize(context.Background(), c.claims, &authorization.CallTarget{APIName: c.api, Namespace: "default", Request: c.request})
			if err != nil {
				t.Fatal(err)
			}
			if got := result.Decision == authorization.DecisionAllow; got != c.allowed {
				t.Fatalf("allowed = %v, want %v (reason %q)", got, c.allowed, result.Reason)
			}
			if c.allowed && result.Principal.GetName() != c.claims.Subject {
				t.Fatalf("principal = %v, want the token subject %q", result.Principal, c.claims.Subject)
			}
		})
	}
}

func TestRolesComeFromTheTokensRolesClaim(t *testing.T) {
	token := "Bearer e30." + base64.RawURLEncoding.EncodeToString([]byte(`{"sub":"ana","ballast_roles":["approver","viewer"]}`)) + ".sig"
	roles, err := rolesFromToken(token)
	if err != nil || len(roles) != 2 || roles[0] != "approver" {
		t.Fatalf("roles = %v, err = %v", roles, err)
	}
	if _, err := rolesFromToken("Bearer " + "e30." + base64.RawURLEncoding.EncodeToString([]byte(`{"ballast_roles":"approver"}`)) + ".sig"); err == nil {
		t.Fatal("a roles claim that is not a list must be refused")
	}
}
