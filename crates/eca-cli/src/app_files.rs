//! The metadata files of a new External Client App, as element trees for
//! [`eca_metadata::xml::write_canonical`]. Settings are named as Salesforce names apps made in
//! the Setup UI (`spec/metadata.md` §4.1: `X`, `X_oauth`, `X_glbloauth`). Policies take the
//! names the platform gives the records it generates on a first deploy
//! (`<OAuthSettingsName>_defaultPolicy`, `<App>_defaultPolicy`, §4.1 and §5.1.4), so shipping
//! them in that same deploy never creates a second record (the `duplicate value found`
//! failure of §4). Labels follow the names, and the policy values are the platform defaults
//! of §5.2 unless a flow needs otherwise.

use std::collections::BTreeSet;

use eca_metadata::MetadataType;
use eca_metadata::xml::{Element, write_canonical};

/// An OAuth flow the app is set up for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, clap::ValueEnum)]
pub enum Flow {
    /// Authorization code (web server) flow with PKCE.
    Web,
    /// Client credentials, running as a named user (`--run-as`).
    ClientCredentials,
    /// Device authorization flow.
    Device,
    /// JWT bearer flow with a certificate.
    JwtBearer,
}

/// Everything the files say.
#[derive(Debug, Clone)]
pub struct App {
    pub name: String,
    pub label: String,
    pub description: String,
    pub contact_email: String,
    /// `distributionState` `Packaged` instead of `Local`.
    pub is_packaged: bool,
    pub oauth: Option<Oauth>,
    pub saml: Option<Saml>,
}

#[derive(Debug, Clone)]
pub struct Oauth {
    pub flows: BTreeSet<Flow>,
    /// Metadata scope tokens (`Api`, `RefreshToken`...); see [`default_scopes`].
    pub scopes: Vec<String>,
    pub callback_urls: Vec<String>,
    /// The client credentials run-as user.
    pub run_as: Option<String>,
    /// The base64 body of the JWT bearer certificate.
    pub certificate: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Saml {
    pub acs_url: String,
    pub entity_id: String,
}

/// One generated component.
#[derive(Debug, Clone)]
pub struct File {
    pub ty: MetadataType,
    pub full_name: String,
    pub root: Element,
}

impl File {
    /// The file text in canonical form.
    pub fn text(&self) -> String {
        write_canonical(&self.root)
    }

    /// The source-format file name.
    pub fn file_name(&self) -> String {
        self.ty.source_file_name(&self.full_name)
    }
}

/// The callback URL the Salesforce CLI listens on for `sf org login web`.
pub const DEFAULT_CALLBACK: &str = "http://localhost:1717/OauthRedirect";

/// The contact email used when none is given.
pub const DEFAULT_CONTACT_EMAIL: &str = "admin@example.com";

/// The profile pre-authorized for the JWT bearer flow, which has no consent screen and so needs
/// `AdminApprovedPreAuthorized` (`spec/metadata.md` §9.3).
pub const JWT_PROFILE: &str = "System Administrator";

/// `Api, RefreshToken`, plus `OpenID` for the web flow.
pub fn default_scopes(flows: &BTreeSet<Flow>) -> Vec<String> {
    let mut scopes = vec!["Api".to_owned(), "RefreshToken".to_owned()];
    if flows.contains(&Flow::Web) {
        scopes.push("OpenID".to_owned());
    }
    scopes
}

/// Every file of the app, header first.
pub fn files(app: &App) -> Vec<File> {
    let mut files = vec![header(app)];
    if let Some(oauth) = &app.oauth {
        files.push(oauth_settings(app, oauth));
        files.push(global_oauth_settings(app, oauth));
        files.push(oauth_policies(app, oauth));
    }
    files.push(app_policies(app));
    if let Some(saml) = &app.saml {
        files.push(saml_policies(app, saml));
    }
    files
}

fn file(ty: MetadataType, full_name: String, children: Vec<Element>) -> File {
    File {
        ty,
        full_name,
        root: Element::node(ty.name(), children),
    }
}

fn flag(name: &str, value: bool) -> Element {
    Element::leaf(name, if value { "true" } else { "false" })
}

/// `spec/metadata.md` §2.1.
fn header(app: &App) -> File {
    let state = if app.is_packaged { "Packaged" } else { "Local" };
    file(
        MetadataType::ExternalClientApplication,
        app.name.clone(),
        vec![
            Element::leaf("contactEmail", app.contact_email.clone()),
            Element::leaf("description", app.description.clone()),
            Element::leaf("distributionState", state),
            flag("isProtected", false),
            Element::leaf("label", app.label.clone()),
        ],
    )
}

/// `spec/metadata.md` §2.2; scopes joined with `", "` as real files have them (§9.1).
fn oauth_settings(app: &App, oauth: &Oauth) -> File {
    let name = format!("{}_oauth", app.name);
    file(
        MetadataType::OauthSettings,
        name.clone(),
        vec![
            Element::leaf("commaSeparatedOauthScopes", oauth.scopes.join(", ")),
            Element::leaf("externalClientApplication", app.name.clone()),
            flag("isFirstPartyAppEnabled", false),
            Element::leaf("label", name),
        ],
    )
}

/// `spec/metadata.md` §2.3: several callback URLs go in one element, one per line (§9.2); the
/// certificate's presence turns the JWT bearer flow on (§9.3).
fn global_oauth_settings(app: &App, oauth: &Oauth) -> File {
    let name = format!("{}_glbloauth", app.name);
    let mut children = vec![
        Element::leaf("callbackUrl", oauth.callback_urls.join("\n")),
        Element::leaf("externalClientApplication", app.name.clone()),
        flag(
            "isClientCredentialsFlowEnabled",
            oauth.flows.contains(&Flow::ClientCredentials),
        ),
        flag("isConsumerSecretOptional", false),
        flag("isDeviceFlowEnabled", oauth.flows.contains(&Flow::Device)),
        flag("isPkceRequired", oauth.flows.contains(&Flow::Web)),
        flag("isSecretRequiredForRefreshToken", true),
        Element::leaf("label", name.clone()),
    ];
    if let Some(cert) = &oauth.certificate {
        children.push(Element::leaf("certificate", cert.clone()));
    }
    file(MetadataType::GlobalOauthSettings, name, children)
}

/// `spec/metadata.md` §2.4 with the generated defaults of §5.2; client credentials get their
/// run-as user (§9.4), JWT bearer gets admin pre-authorization (§9.3).
fn oauth_policies(app: &App, oauth: &Oauth) -> File {
    let name = format!("{}_oauth_defaultPolicy", app.name);
    let client_credentials = oauth.flows.contains(&Flow::ClientCredentials);
    let pre_authorized = oauth.flows.contains(&Flow::JwtBearer);
    let mut children = vec![
        Element::leaf("externalClientApplication", app.name.clone()),
        Element::leaf("ipRelaxationPolicyType", "Enforce"),
        flag("isClientCredentialsFlowEnabled", client_credentials),
        flag("isGuestCodeCredFlowEnabled", false),
        flag("isTokenExchangeFlowEnabled", false),
        Element::leaf("label", name.clone()),
        Element::leaf(
            "permittedUsersPolicyType",
            if pre_authorized {
                "AdminApprovedPreAuthorized"
            } else {
                "AllSelfAuthorized"
            },
        ),
        Element::leaf("refreshTokenPolicyType", "SpecificLifetime"),
        Element::leaf("refreshTokenValidityPeriod", "365"),
        Element::leaf("refreshTokenValidityUnit", "Days"),
        Element::leaf("requiredSessionLevel", "STANDARD"),
    ];
    if client_credentials && let Some(user) = &oauth.run_as {
        children.push(Element::leaf("clientCredentialsFlowUser", user.clone()));
    }
    if pre_authorized {
        children.push(Element::leaf("commaSeparatedProfile", JWT_PROFILE));
    }
    file(MetadataType::OauthPolicies, name, children)
}

/// `spec/metadata.md` §2.5 and §7: plugins not in use are switched off explicitly, because a
/// flag left out means "on".
fn app_policies(app: &App) -> File {
    let name = format!("{}_defaultPolicy", app.name);
    let mut children = vec![
        Element::leaf("externalClientApplication", app.name.clone()),
        flag("isEnabled", true),
        flag("isOauthPluginEnabled", app.oauth.is_some()),
        Element::leaf("label", name.clone()),
        Element::leaf("startPage", "None"),
    ];
    if app.saml.is_some() {
        children.push(flag("isSamlPluginEnabled", true));
    }
    file(MetadataType::AppPolicies, name, children)
}

/// `spec/metadata.md` §2.6.
fn saml_policies(app: &App, saml: &Saml) -> File {
    let name = format!("{}_samlPlcy", app.name);
    file(
        MetadataType::SamlPolicies,
        name.clone(),
        vec![
            Element::leaf("acsUrl", saml.acs_url.clone()),
            Element::leaf("entityUrl", saml.entity_id.clone()),
            Element::leaf("externalClientApplication", app.name.clone()),
            Element::leaf("label", name),
            Element::leaf("nameIdFormat", "Unspecified"),
            Element::leaf("signingAlgorithmType", "SHA256"),
            Element::leaf("subjectType", "Username"),
        ],
    )
}
