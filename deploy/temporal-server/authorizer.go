package main

// Ballast's authorization rule on the Temporal frontend (issue 11 §3), the plug-in point for a
// deployment where the server itself enforces who may approve. Every call is first decided by
// Temporal's default authorizer (namespace roles from the caller's JWT "permissions" claim); the
// approval messages, the Signals and Updates that approve or reject a risk-increasing change or
// create a limit override, additionally need the approver role in the token's "ballast_roles"
// claim, whatever API carries them (a Signal, Signal-with-Start, an Update, an Update-with-Start,
// a batch Signal). The caller's token subject is returned as the principal, which the server
// records on the history events the call causes (frontend.enablePrincipalPropagation), so the
// audit can show who approved rather than the free-form identity a client claims.
//
// Selected with global.authorization.authorizer and .claimMapper = "ballast" (config.yaml.tmpl:
// TEMPORAL_AUTH_AUTHORIZER, TEMPORAL_AUTH_CLAIM_MAPPER); the JWT keys come from
// global.authorization.jwtKeyProvider as for Temporal's default claim mapper.

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/server/common/authorization"
	"go.temporal.io/server/common/config"
	"go.temporal.io/server/common/log"
)

const (
	ballastAuthorization = "ballast"
	rolesClaim           = "ballast_roles"
	approverRole         = "approver"
)

// The workflows' approval Signals and Updates (workflows/messages.ts); BALLAST_APPROVAL_MESSAGES
// (comma-separated) replaces the list.
var defaultApprovalMessages = []string{"approve", "reject", "approveRecommendation", "rejectRecommendation", "overrideLimit"}

// ballastRoles is what the claim mapper puts in Claims.Extensions.
type ballastRoles []string

type approverAuthorizer struct {
	base     authorization.Authorizer
	approval map[string]bool
}

func newApproverAuthorizer(base authorization.Authorizer, approvalMessages []string) *approverAuthorizer {
	approval := make(map[string]bool, len(approvalMessages))
	for _, name := range approvalMessages {
		approval[name] = true
	}
	return &approverAuthorizer{base: base, approval: approval}
}

func (a *approverAuthorizer) Authorize(ctx context.Context, claims *authorization.Claims, target *authorization.CallTarget) (authorization.Result, error) {
	result, err := a.base.Authorize(ctx, claims, target)
	if err != nil || result.Decision != authorization.DecisionAllow {
		return result, err
	}
	for _, name := range messageNames(target.Request) {
		if a.approval[name] && !hasRole(claims, approverRole) {
			return authorization.Result{
				Decision: authorization.DecisionDeny,
				Reason:   fmt.Sprintf("%q may be sent only by the %s role", name, approverRole),
			}, nil
		}
	}
	if claims != nil && claims.Subject != "" {
		result.Principal = &commonpb.Principal{Type: "jwt", Name: claims.Subject}
	}
	return result, nil
}

// messageNames lists the Signal and Update names a request delivers, by every API that can.
func messageNames(request any) []string {
	switch r := request.(type) {
	case *workflowservice.SignalWorkflowExecutionRequest:
		return []string{r.GetSignalName()}
	case *workflowservice.SignalWithStartWorkflowExecutionRequest:
		return []string{r.GetSignalName()}
	case *workflowservice.UpdateWorkflowExecutionRequest:
		return []string{r.GetRequest().GetInput().GetName()}
	case *workflowservice.ExecuteMultiOperationRequest:
		var names []string
		for _, op := range r.GetOperations() {
			if update := op.GetUpdateWorkflow(); update != nil {
				names = append(names, update.GetRequest().GetInput().GetName())
			}
		}
		return names
	case *workflowservice.StartBatchOperationRequest:
		if signal := r.GetSignalOperation(); signal != nil {
			return []string{signal.GetSignal()}
		}
	}
	return nil
}

func hasRole(claims *authorization.Claims, role string) bool {
	if claims == nil {
		return false
	}
	roles, _ := claims.Extensions.(ballastRoles)
	return slices.Contains(roles, role)
}

// roleClaimMapper is Temporal's JWT claim mapper (signature check, "sub", "permissions") plus
// Ballast's roles from the same, already verified, token.
type roleClaimMapper struct {
	base authorization.ClaimMapper
}

func (m roleClaimMapper) GetClaims(authInfo *authorization.AuthInfo) (*authorization.Claims, error) {
	claims, err := m.base.GetClaims(authInfo)
	if err != nil {
		return nil, err
	}
	roles, err := rolesFromToken(authInfo.AuthToken)
	if err != nil {
		return nil, err
	}
	claims.Extensions = roles
	return claims, nil
}

// rolesFromToken reads the roles claim of a bearer token whose signature the base mapper checked.
func rolesFromToken(authToken string) (ballastRoles, error) {
	parts := strings.Split(strings.TrimPrefix(authToken, "Bearer "), ".")
	if len(parts) != 3 {
		return nil, fmt.Errorf("authorization token is not a JWT")
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return nil, fmt.Errorf("authorization token payload: %w", err)
	}
	var body map[string]json.RawMessage
	if err := json.Unmarshal(payload, &body); err != nil {
		return nil, fmt.Errorf("authorization token payload: %w", err)
	}
	var roles ballastRoles
	if raw, ok := body[rolesClaim]; ok {
		if err := json.Unmarshal(raw, &roles); err != nil {
			return nil, fmt.Errorf("claim %s must be a list of strings: %w", rolesClaim, err)
		}
	}
	return roles, nil
}

// authorizationFromConfig returns the authorizer and claim mapper named in global.authorization:
// "ballast" for the rule above, else Temporal's own ("" allows everyone, as the dev server does).
func authorizationFromConfig(cfg *config.Config, logger log.Logger) (authorization.Authorizer, authorization.ClaimMapper, error) {
	auth := &cfg.Global.Authorization
	var authorizer authorization.Authorizer
	if strings.EqualFold(auth.Authorizer, ballastAuthorization) {
		authorizer = newApproverAuthorizer(authorization.NewDefaultAuthorizer(), approvalMessages())
	} else {
		var err error
		if authorizer, err = authorization.GetAuthorizerFromConfig(auth); err != nil {
			return nil, nil, fmt.Errorf("authorizer: %w", err)
		}
	}
	var claimMapper authorization.ClaimMapper
	if strings.EqualFold(auth.ClaimMapper, ballastAuthorization) {
		keys := authorization.NewDefaultTokenKeyProvider(auth, logger)
		claimMapper = roleClaimMapper{base: authorization.NewDefaultJWTClaimMapper(keys, auth, logger)}
	} else {
		var err error
		if claimMapper, err = authorization.GetClaimMapperFromConfig(auth, logger); err != nil {
			return nil, nil, fmt.Errorf("claim mapper: %w", err)
		}
	}
	return authorizer, claimMapper, nil
}

func approvalMessages() []string {
	if list := os.Getenv("BALLAST_APPROVAL_MESSAGES"); list != "" {
		return strings.Split(list, ",")
	}
	return defaultApprovalMessages
}
