/**
 * The keys Envoy, Traefik and Kong document for the parts of their configs our recipes use
 * (docs/recipes/). Each message lists every field of the documented message, not only the ones
 * we use, so a recipe may grow within them; a key outside them is a misspelling or an invention.
 * Where a message is large and our recipe touches little of it (Envoy's Cluster, Traefik's
 * headers middleware), the list is the documented fields an operator is likely to add.
 */
import { bool, list, map, num, obj, oneOfValues, str, tagged, type Shape } from './shape.node.js';

// ---- Envoy (v3 API). https://www.envoyproxy.io/docs/envoy/latest/api-v3/api

/** type.matcher.v3.StringMatcher: .../api-v3/type/matcher/v3/string.proto */
const stringMatcher = obj({
  exact: str,
  prefix: str,
  suffix: str,
  safe_regex: obj({ regex: str, google_re2: obj({}) }),
  contains: str,
  custom: obj({ name: str, typed_config: obj({}) }),
  ignore_case: bool,
});
/** type.matcher.v3.ListStringMatcher: .../api-v3/type/matcher/v3/string.proto */
const listStringMatcher = obj({ patterns: list(stringMatcher) }, ['patterns']);
/** config.core.v3.HeaderValue / HeaderValueOption: .../api-v3/config/core/v3/base.proto */
const headerValue = obj({ key: str, value: str, raw_value: str }, ['key']);
const headerValueOption = obj({
  header: headerValue,
  append: bool,
  append_action: oneOfValues(
    'APPEND_IF_EXISTS_OR_ADD',
    'ADD_IF_ABSENT',
    'OVERWRITE_IF_EXISTS_OR_ADD',
    'OVERWRITE_IF_EXISTS',
  ),
  keep_empty_value: bool,
});
/** type.v3.HttpStatus: .../api-v3/type/v3/http_status.proto (the StatusCode enum names used here) */
const httpStatus = obj(
  {
    code: oneOfValues(
      'Forbidden',
      'Unauthorized',
      'ServiceUnavailable',
      'InternalServerError',
      'BadGateway',
      'GatewayTimeout',
    ),
  },
  ['code'],
);
/** config.core.v3.Address / SocketAddress: .../api-v3/config/core/v3/address.proto */
const address = obj({
  socket_address: obj(
    {
      protocol: oneOfValues('TCP', 'UDP'),
      address: str,
      port_value: num,
      named_port: str,
      resolver_name: str,
      ipv4_compat: bool,
    },
    ['address'],
  ),
  pipe: obj({ path: str, mode: num }),
  envoy_internal_address: obj({ server_listener_name: str, endpoint_id: str }),
});

/** extensions.filters.http.router.v3.Router: .../extensions/filters/http/router/v3/router.proto */
const router = obj({
  dynamic_stats: bool,
  start_child_span: bool,
  upstream_log: list(obj({})),
  upstream_log_options: obj({}),
  suppress_envoy_headers: bool,
  strict_check_headers: list(str),
  respect_expected_rq_timeout: bool,
  suppress_grpc_request_failure_code_stats: bool,
  upstream_http_filters: list(obj({})),
});

/**
 * extensions.filters.http.header_mutation.v3.HeaderMutation and
 * config.common.mutation_rules.v3.HeaderMutation:
 * .../extensions/filters/http/header_mutation/v3/header_mutation.proto,
 * .../config/common/mutation_rules/v3/mutation_rules.proto
 */
const mutation = obj({ remove: str, append: headerValueOption, remove_on_match: obj({}) });
const headerMutation = obj({
  mutations: obj({
    request_mutations: list(mutation),
    query_parameter_mutations: list(obj({})),
    response_mutations: list(mutation),
    response_trailers_mutations: list(mutation),
    request_trailers_mutations: list(mutation),
  }),
  most_specific_header_mutations_wins: bool,
});

/**
 * extensions.filters.http.ext_authz.v3.ExtAuthz, HttpService, AuthorizationRequest,
 * AuthorizationResponse: .../extensions/filters/http/ext_authz/v3/ext_authz.proto;
 * config.core.v3.HttpUri: .../api-v3/config/core/v3/http_uri.proto
 */
const httpService = obj(
  {
    server_uri: obj({ uri: str, cluster: str, timeout: str }, ['uri', 'cluster', 'timeout']),
    path_prefix: str,
    authorization_request: obj({
      allowed_headers: listStringMatcher,
      headers_to_add: list(headerValue),
    }),
    authorization_response: obj({
      allowed_upstream_headers: listStringMatcher,
      allowed_upstream_headers_to_append: listStringMatcher,
      allowed_client_headers: listStringMatcher,
      allowed_client_headers_on_success: listStringMatcher,
      dynamic_metadata_from_headers: listStringMatcher,
    }),
    retry_policy: obj({}),
  },
  ['server_uri'],
);
const extAuthz = obj({
  grpc_service: obj({}),
  http_service: httpService,
  transport_api_version: oneOfValues('V3'),
  failure_mode_allow: bool,
  failure_mode_allow_header_add: bool,
  with_request_body: obj({
    max_request_bytes: num,
    allow_partial_message: bool,
    pack_as_bytes: bool,
  }),
  clear_route_cache: bool,
  status_on_error: httpStatus,
  validate_mutations: bool,
  metadata_context_namespaces: list(str),
  typed_metadata_context_namespaces: list(str),
  route_metadata_context_namespaces: list(str),
  route_typed_metadata_context_namespaces: list(str),
  filter_enabled: obj({}),
  filter_enabled_metadata: obj({}),
  deny_at_disable: obj({}),
  include_peer_certificate: bool,
  stat_prefix: str,
  bootstrap_metadata_labels_key: str,
  allowed_headers: listStringMatcher,
  disallowed_headers: listStringMatcher,
  include_tls_session: bool,
  charge_cluster_response_stats: bool,
  encode_raw_headers: bool,
  decoder_header_mutation_rules: obj({}),
  enable_dynamic_metadata_ingestion: bool,
  filter_metadata: obj({}),
  emit_filter_state_stats: bool,
});

const HTTP_FILTERS: Record<string, Shape> = {
  'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router': router,
  'type.googleapis.com/envoy.extensions.filters.http.header_mutation.v3.HeaderMutation':
    headerMutation,
  'type.googleapis.com/envoy.extensions.filters.http.ext_authz.v3.ExtAuthz': extAuthz,
};

/**
 * config.route.v3.RouteConfiguration, VirtualHost, Route, RouteMatch, RouteAction:
 * .../api-v3/config/route/v3/route.proto, route_components.proto
 */
const route = obj(
  {
    name: str,
    match: obj({
      prefix: str,
      path: str,
      safe_regex: obj({ regex: str }),
      path_separated_prefix: str,
      case_sensitive: bool,
      headers: list(obj({})),
      query_parameters: list(obj({})),
    }),
    route: obj({
      cluster: str,
      cluster_header: str,
      weighted_clusters: obj({}),
      prefix_rewrite: str,
      host_rewrite_literal: str,
      auto_host_rewrite: bool,
      host_rewrite_header: str,
      timeout: str,
      idle_timeout: str,
      retry_policy: obj({}),
    }),
    redirect: obj({}),
    direct_response: obj({}),
    request_headers_to_add: list(headerValueOption),
    request_headers_to_remove: list(str),
    response_headers_to_add: list(headerValueOption),
    response_headers_to_remove: list(str),
    typed_per_filter_config: map(obj({})),
  },
  ['match'],
);
const routeConfig = obj({
  name: str,
  virtual_hosts: list(
    obj(
      {
        name: str,
        domains: list(str),
        routes: list(route),
        request_headers_to_add: list(headerValueOption),
        request_headers_to_remove: list(str),
        response_headers_to_add: list(headerValueOption),
        response_headers_to_remove: list(str),
        typed_per_filter_config: map(obj({})),
      },
      ['name', 'domains'],
    ),
  ),
  request_headers_to_add: list(headerValueOption),
  request_headers_to_remove: list(str),
  validate_clusters: bool,
});

/**
 * extensions.filters.network.http_connection_manager.v3.HttpConnectionManager and HttpFilter:
 * .../extensions/filters/network/http_connection_manager/v3/http_connection_manager.proto
 */
const httpConnectionManager = obj(
  {
    codec_type: oneOfValues('AUTO', 'HTTP1', 'HTTP2', 'HTTP3'),
    stat_prefix: str,
    rds: obj({}),
    route_config: routeConfig,
    scoped_routes: obj({}),
    http_filters: list(
      obj(
        {
          name: str,
          typed_config: tagged('@type', HTTP_FILTERS),
          config_discovery: obj({}),
          is_optional: bool,
          disabled: bool,
        },
        ['name'],
      ),
    ),
    add_user_agent: bool,
    tracing: obj({}),
    common_http_protocol_options: obj({}),
    http_protocol_options: obj({}),
    http2_protocol_options: obj({}),
    server_name: str,
    server_header_transformation: oneOfValues('OVERWRITE', 'APPEND_IF_ABSENT', 'PASS_THROUGH'),
    max_request_headers_kb: num,
    stream_idle_timeout: str,
    request_timeout: str,
    request_headers_timeout: str,
    drain_timeout: str,
    access_log: list(obj({})),
    use_remote_address: bool,
    xff_num_trusted_hops: num,
    original_ip_detection_extensions: list(obj({})),
    skip_xff_append: bool,
    via: str,
    generate_request_id: bool,
    preserve_external_request_id: bool,
    forward_client_cert_details: str,
    normalize_path: bool,
    merge_slashes: bool,
    path_with_escaped_slashes_action: str,
    strip_any_host_port: bool,
    strip_matching_host_port: bool,
  },
  ['stat_prefix'],
);
const NETWORK_FILTERS: Record<string, Shape> = {
  'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager':
    httpConnectionManager,
};

/** config.listener.v3.Listener, FilterChain, Filter: .../config/listener/v3/listener.proto, listener_components.proto */
const listener = obj(
  {
    name: str,
    address,
    additional_addresses: list(obj({})),
    stat_prefix: str,
    filter_chains: list(
      obj({
        filter_chain_match: obj({}),
        filters: list(
          obj(
            {
              name: str,
              typed_config: tagged('@type', NETWORK_FILTERS),
              config_discovery: obj({}),
            },
            ['name'],
          ),
        ),
        transport_socket: obj({}),
        name: str,
      }),
    ),
    default_filter_chain: obj({}),
    per_connection_buffer_limit_bytes: num,
    listener_filters: list(obj({})),
    drain_type: str,
  },
  ['name', 'address'],
);

/** extensions.transport_sockets.tls.v3.UpstreamTlsContext, CommonTlsContext: .../extensions/transport_sockets/tls/v3/tls.proto, common.proto */
const upstreamTls = obj({
  common_tls_context: obj({
    tls_params: obj({}),
    tls_certificates: list(obj({})),
    validation_context: obj({
      trusted_ca: obj({ filename: str, inline_string: str, environment_variable: str }),
      match_typed_subject_alt_names: list(obj({})),
      verify_certificate_spki: list(str),
      verify_certificate_hash: list(str),
    }),
    alpn_protocols: list(str),
  }),
  sni: str,
  auto_host_sni: bool,
  auto_sni_san_validation: bool,
  allow_renegotiation: bool,
  max_session_keys: num,
});

/**
 * config.cluster.v3.Cluster: .../api-v3/config/cluster/v3/cluster.proto;
 * ClusterLoadAssignment, LocalityLbEndpoints, LbEndpoint, Endpoint: .../config/endpoint/v3/
 */
const cluster = obj(
  {
    name: str,
    alt_stat_name: str,
    type: oneOfValues('STATIC', 'STRICT_DNS', 'LOGICAL_DNS', 'EDS', 'ORIGINAL_DST'),
    cluster_type: obj({}),
    eds_cluster_config: obj({}),
    connect_timeout: str,
    per_connection_buffer_limit_bytes: num,
    lb_policy: str,
    load_assignment: obj(
      {
        cluster_name: str,
        endpoints: list(
          obj({
            locality: obj({}),
            lb_endpoints: list(
              obj({
                endpoint: obj({ address, health_check_config: obj({}), hostname: str }),
                health_status: str,
                load_balancing_weight: num,
              }),
            ),
            load_balancing_weight: num,
            priority: num,
          }),
        ),
        policy: obj({}),
      },
      ['cluster_name'],
    ),
    health_checks: list(obj({})),
    circuit_breakers: obj({}),
    typed_extension_protocol_options: map(obj({})),
    dns_refresh_rate: str,
    respect_dns_ttl: bool,
    dns_lookup_family: oneOfValues('AUTO', 'V4_ONLY', 'V6_ONLY', 'V4_PREFERRED', 'ALL'),
    transport_socket: obj(
      {
        name: str,
        typed_config: tagged('@type', {
          'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext':
            upstreamTls,
        }),
      },
      ['name'],
    ),
    outlier_detection: obj({}),
  },
  ['name'],
);

/** config.bootstrap.v3.Bootstrap (the static part): .../api-v3/config/bootstrap/v3/bootstrap.proto */
export const envoyBootstrap = obj({
  node: obj({}),
  static_resources: obj({
    listeners: list(listener),
    clusters: list(cluster),
    secrets: list(obj({})),
  }),
  dynamic_resources: obj({}),
  admin: obj({}),
  layered_runtime: obj({}),
  overload_manager: obj({}),
  stats_sinks: list(obj({})),
});

// ---- Traefik v3, dynamic configuration (file provider)

/** https://doc.traefik.io/traefik/reference/routing-configuration/http/middlewares/forwardauth/ */
const forwardAuth = obj(
  {
    address: str,
    tls: obj({ ca: str, cert: str, key: str, insecureSkipVerify: bool, caOptional: bool }),
    trustForwardHeader: bool,
    authResponseHeaders: list(str),
    authResponseHeadersRegex: str,
    authRequestHeaders: list(str),
    addAuthCookiesToResponse: list(str),
    headerField: str,
    forwardBody: bool,
    maxBodySize: num,
    preserveLocationHeader: bool,
    preserveRequestMethod: bool,
    maxResponseBodySize: num,
  },
  ['address'],
);
/** https://doc.traefik.io/traefik/reference/routing-configuration/http/middlewares/headers/ */
const headersMiddleware = obj({
  customRequestHeaders: map(str),
  customResponseHeaders: map(str),
  accessControlAllowCredentials: bool,
  accessControlAllowHeaders: list(str),
  accessControlAllowMethods: list(str),
  accessControlAllowOriginList: list(str),
  accessControlAllowOriginListRegex: list(str),
  accessControlExposeHeaders: list(str),
  accessControlMaxAge: num,
  addVaryHeader: bool,
  allowedHosts: list(str),
  hostsProxyHeaders: list(str),
  sslProxyHeaders: map(str),
  stsSeconds: num,
  stsIncludeSubdomains: bool,
  stsPreload: bool,
  forceSTSHeader: bool,
  frameDeny: bool,
  customFrameOptionsValue: str,
  contentTypeNosniff: bool,
  browserXssFilter: bool,
  customBrowserXSSValue: str,
  contentSecurityPolicy: str,
  contentSecurityPolicyReportOnly: str,
  publicKey: str,
  referrerPolicy: str,
  permissionsPolicy: str,
  isDevelopment: bool,
});
/**
 * One middleware: exactly the middleware types this recipe uses (a typo in a type name fails).
 * https://doc.traefik.io/traefik/reference/routing-configuration/http/middlewares/overview/
 */
const middleware = obj({ forwardAuth, headers: headersMiddleware });
/** https://doc.traefik.io/traefik/reference/routing-configuration/http/routing/router/ */
const traefikRouter = obj(
  {
    rule: str,
    ruleSyntax: str,
    entryPoints: list(str),
    middlewares: list(str),
    service: str,
    priority: num,
    tls: obj({
      certResolver: str,
      domains: list(obj({ main: str, sans: list(str) })),
      options: str,
    }),
    observability: obj({ accessLogs: bool, metrics: bool, tracing: bool }),
  },
  ['rule', 'service'],
);
/** https://doc.traefik.io/traefik/reference/routing-configuration/other-providers/file/ */
export const traefikDynamic = obj({
  http: obj({
    routers: map(traefikRouter),
    middlewares: map(middleware),
    services: map(obj({})),
    serversTransports: map(obj({})),
  }),
  tcp: obj({}),
  udp: obj({}),
  tls: obj({}),
});

// ---- Kong Gateway (decK declarative configuration, _format_version 3.0)

/** https://developer.konghq.com/plugins/oauth2-introspection/reference/ */
const oauth2Introspection = obj(
  {
    introspection_url: str,
    authorization_value: str,
    token_type_hint: str,
    ttl: num,
    hide_credentials: bool,
    timeout: num,
    keepalive: num,
    introspect_request: bool,
    anonymous: str,
    consumer_by: oneOfValues('username', 'client_id'),
    run_on_preflight: bool,
    custom_introspection_headers: map(str),
    custom_claims_forward: list(str),
  },
  ['introspection_url', 'authorization_value'],
);
/** https://developer.konghq.com/plugins/request-transformer/reference/ */
const transformList = obj({ body: list(str), headers: list(str), querystring: list(str) });
const requestTransformer = obj({
  http_method: str,
  remove: transformList,
  rename: transformList,
  replace: obj({ body: list(str), headers: list(str), querystring: list(str), uri: str }),
  add: transformList,
  append: transformList,
});
/** https://developer.konghq.com/gateway/entities/plugin/ (dynamic plugin ordering: `ordering`) */
const phases = obj({ access: list(str) });
const pluginBase = {
  name: str,
  instance_name: str,
  route: str,
  service: str,
  consumer: str,
  enabled: bool,
  protocols: list(str),
  tags: list(str),
  ordering: obj({ before: phases, after: phases }),
};
/** One plugin entry, its `config` checked against the plugin it names. */
const kongPlugin = tagged('name', {
  'oauth2-introspection': obj({ ...pluginBase, config: oauth2Introspection }, ['config']),
  'request-transformer': obj({ ...pluginBase, config: requestTransformer }, ['config']),
});
/** https://developer.konghq.com/gateway/entities/route/ */
const kongRoute = obj({
  name: str,
  hosts: list(str),
  paths: list(str),
  methods: list(str),
  headers: map(list(str)),
  protocols: list(str),
  strip_path: bool,
  preserve_host: bool,
  tags: list(str),
  plugins: list(obj({})),
});
/** https://developer.konghq.com/gateway/entities/service/ */
const kongService = obj(
  {
    name: str,
    url: str,
    protocol: str,
    host: str,
    port: num,
    path: str,
    retries: num,
    connect_timeout: num,
    write_timeout: num,
    read_timeout: num,
    enabled: bool,
    tags: list(str),
    routes: list(kongRoute),
  },
  ['name'],
);
/** The decK file: https://developer.konghq.com/deck/file/ */
export const kongDeck = obj(
  {
    _format_version: oneOfValues('3.0'),
    _transform: bool,
    services: list(kongService),
    routes: list(kongRoute),
    plugins: list(kongPlugin),
    consumers: list(obj({})),
    upstreams: list(obj({})),
  },
  ['_format_version'],
);
