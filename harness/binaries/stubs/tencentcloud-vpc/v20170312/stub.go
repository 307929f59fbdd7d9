// Package v20170312 stands in for Tencent Cloud's VPC SDK when flanneld is built from source here:
// the Go module proxy this project can reach does not serve that SDK module, and flanneld imports
// it for its tencent-vpc backend only. hardway's clusters use the vxlan or host-gw backends, which
// this stub does not touch; selecting tencent-vpc fails with a clear error instead.
package v20170312

import "errors"

var errUnavailable = errors.New("the tencent-vpc backend is not available in this flanneld build (built by hardway without the Tencent Cloud SDK)")

type Filter struct {
	Name   *string
	Values []*string
}

type Route struct {
	DestinationCidrBlock *string
	GatewayType          *string
	GatewayId            *string
	RouteId              *uint64
	RouteType            *string
	Enabled              *bool
}

type RouteTable struct {
	RouteTableId *string
	RouteSet     []*Route
}

type DescribeRouteTablesRequest struct{ Filters []*Filter }
type DescribeRouteTablesResponse struct {
	Response *struct{ RouteTableSet []*RouteTable }
}
type DeleteRoutesRequest struct {
	RouteTableId *string
	Routes       []*Route
}
type DeleteRoutesResponse struct{}
type CreateRoutesRequest struct {
	RouteTableId *string
	Routes       []*Route
}
type CreateRoutesResponse struct{}

type Client struct{}

func NewClientWithSecretId(secretId, secretKey, region string) (*Client, error) {
	return nil, errUnavailable
}
func NewDescribeRouteTablesRequest() *DescribeRouteTablesRequest { return &DescribeRouteTablesRequest{} }
func NewDeleteRoutesRequest() *DeleteRoutesRequest               { return &DeleteRoutesRequest{} }
func NewCreateRoutesRequest() *CreateRoutesRequest               { return &CreateRoutesRequest{} }

func (c *Client) DescribeRouteTables(*DescribeRouteTablesRequest) (*DescribeRouteTablesResponse, error) {
	return nil, errUnavailable
}
func (c *Client) DeleteRoutes(*DeleteRoutesRequest) (*DeleteRoutesResponse, error) {
	return nil, errUnavailable
}
func (c *Client) CreateRoutes(*CreateRoutesRequest) (*CreateRoutesResponse, error) {
	return nil, errUnavailable
}
