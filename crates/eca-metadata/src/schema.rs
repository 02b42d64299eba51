//! The schema of every ECA type, transcribed from the Metadata API WSDL (v61–v66) and the newer
//! typings (`spec/metadata.md` §2 and §3). One table per WSDL complexType: element name, value
//! kind, `minOccurs` / `maxOccurs`, and the API versions in which the element exists.
//!
//! The generic checks in `validate::schema` read these tables; nothing else encodes field
//! names, so a field added by Salesforce is one line here.

use crate::catalog::MetadataType;
use crate::version::ApiVersion;

/// One value of an enumeration, with the first API version that has it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EnumValue {
    pub name: &'static str,
    pub since: u32,
    /// Values Salesforce uses internally and rejects from customers.
    pub internal: bool,
}

const fn v(name: &'static str) -> EnumValue {
    EnumValue {
        name,
        since: 0,
        internal: false,
    }
}

const fn v_since(name: &'static str, since: u32) -> EnumValue {
    EnumValue {
        name,
        since,
        internal: false,
    }
}

const fn v_internal(name: &'static str) -> EnumValue {
    EnumValue {
        name,
        since: 0,
        internal: true,
    }
}

/// An enumeration. `string_typed` value sets are plain `xsd:string` fields in the WSDL with a
/// documented value list; Salesforce matches them case-insensitively (and writes
/// `Enforce_relaxrefresh` itself on retrieve), so a case difference is only a warning.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EnumDef {
    pub name: &'static str,
    pub values: &'static [EnumValue],
    pub string_typed: bool,
}

impl EnumDef {
    /// The values a customer may use at `version`, for messages.
    pub fn public_values(&self, version: ApiVersion) -> Vec<&'static str> {
        self.values
            .iter()
            .filter(|e| !e.internal && e.since <= version.major())
            .map(|e| e.name)
            .collect()
    }

    pub fn find(&self, value: &str) -> Option<&EnumValue> {
        self.values.iter().find(|e| e.name == value)
    }

    pub fn find_ignore_case(&self, value: &str) -> Option<&EnumValue> {
        self.values
            .iter()
            .find(|e| e.name.eq_ignore_ascii_case(value))
    }
}

/// What an element holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Bool,
    /// An `xsd:int`: 32 bits (XML Schema Part 2 §3.3.17), read with [`parse_int`].
    Int,
    Str,
    Enum(&'static EnumDef),
    Complex(&'static ComplexDef),
}

/// An `xsd:int` value. The WSDL types every integer field of the metadata as `xsd:int`, so a
/// value outside the 32-bit range is not one, whatever a 64-bit parse would make of it.
pub fn parse_int(value: &str) -> Result<i32, std::num::ParseIntError> {
    value.parse::<i32>()
}

/// A complex type: a named list of fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ComplexDef {
    pub name: &'static str,
    pub fields: &'static [FieldDef],
}

/// One element of a complex type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldDef {
    pub name: &'static str,
    pub kind: Kind,
    /// `minOccurs="1"`.
    pub required: bool,
    /// `maxOccurs="unbounded"`.
    pub repeated: bool,
    /// First API version with the element (0: as old as its type).
    pub since: u32,
    /// Last API version with the element, when it was removed.
    pub until: Option<u32>,
}

impl FieldDef {
    const fn new(name: &'static str, kind: Kind) -> Self {
        Self {
            name,
            kind,
            required: false,
            repeated: false,
            since: 0,
            until: None,
        }
    }
    const fn req(mut self) -> Self {
        self.required = true;
        self
    }
    const fn many(mut self) -> Self {
        self.repeated = true;
        self
    }
    const fn since(mut self, v: u32) -> Self {
        self.since = v;
        self
    }
    const fn until(mut self, v: u32) -> Self {
        self.until = Some(v);
        self
    }

    /// Whether the element exists at `version`.
    pub fn exists_at(&self, version: ApiVersion) -> bool {
        version.major() >= self.since && self.until.is_none_or(|u| version.major() <= u)
    }
}

const fn b(name: &'static str) -> FieldDef {
    FieldDef::new(name, Kind::Bool)
}
const fn i(name: &'static str) -> FieldDef {
    FieldDef::new(name, Kind::Int)
}
const fn s(name: &'static str) -> FieldDef {
    FieldDef::new(name, Kind::Str)
}
const fn e(name: &'static str, def: &'static EnumDef) -> FieldDef {
    FieldDef::new(name, Kind::Enum(def))
}
const fn c(name: &'static str, def: &'static ComplexDef) -> FieldDef {
    FieldDef::new(name, Kind::Complex(def))
}

const fn enum_def(name: &'static str, values: &'static [EnumValue]) -> EnumDef {
    EnumDef {
        name,
        values,
        string_typed: false,
    }
}

// Enumerations (`spec/metadata.md` §3).

pub static DIST_STATE: EnumDef = enum_def(
    "ExtlClntAppDistState",
    &[
        v("Local"),
        v("Packaged"),
        v_internal("Managed"),
        EnumValue {
            name: "AutoInstalled",
            since: 62,
            internal: true,
        },
    ],
);
pub static MANAGED_TYPE: EnumDef = enum_def(
    "ExtlClntAppManagedType",
    &[v_internal("Local"), v_internal("Global")],
);
pub static PERMITTED_USERS: EnumDef = enum_def(
    "PermittedUsersPolicyType",
    &[v("AllSelfAuthorized"), v("AdminApprovedPreAuthorized")],
);
pub static REFRESH_TOKEN_POLICY: EnumDef = enum_def(
    "RefreshTokenPolicyType",
    &[
        v("Infinite"),
        v("Zero"),
        v("SpecificLifetime"),
        v("SpecificInactivity"),
    ],
);
pub static REFRESH_TOKEN_UNIT: EnumDef = EnumDef {
    name: "refreshTokenValidityUnit",
    values: &[v("Days"), v("Hours"), v("Months")],
    string_typed: true,
};
pub static IP_RELAXATION: EnumDef = EnumDef {
    name: "ipRelaxationPolicyType",
    values: &[
        v("Enforce"),
        v("Bypass"),
        v("Bypass_2factor"),
        v("Enforce_RelaxRefresh"),
    ],
    string_typed: true,
};
pub static SESSION_LEVEL: EnumDef = enum_def(
    "SessionSecurityLevel",
    &[v("LOW"), v("STANDARD"), v("HIGH_ASSURANCE")],
);
pub static POLICY_ACTION: EnumDef = enum_def(
    "PolicyAction",
    &[v("Block"), v("RaiseSessionLevel"), v_since("StepUpMFA", 67)],
);
pub static JWT_TIMEOUT_TYPE: EnumDef =
    enum_def("JWTSessionTimeoutType", &[v("UserSession"), v("Custom")]);
pub static START_PAGE: EnumDef = enum_def(
    "ExtlClntAppStartPage",
    &[v("None"), v("Custom"), v("OAuth"), v_since("SAML", 63)],
);
pub static NAME_ID_FORMAT: EnumDef = enum_def(
    "ExtlClntAppNameIdFormatType",
    &[
        v("Unspecified"),
        v("EmailAddress"),
        v("Persistent"),
        v("Transient"),
    ],
);
pub static SAML_SIGN_ALGO: EnumDef =
    enum_def("ExtlClntAppSamlSignAlgoType", &[v("SHA1"), v("SHA256")]);
pub static SAML_ENCRYPT: EnumDef =
    enum_def("ExtlClntAppSamlEncryptType", &[v("AES_128"), v("AES_256")]);
pub static SAML_BINDING: EnumDef = enum_def(
    "ExtlClntAppSamlBindingType",
    &[v("RedirectBinding"), v("PostBinding")],
);
pub static SAML_SUBJECT: EnumDef = enum_def(
    "ExtlClntAppSamlSubjectType",
    &[
        v("Username"),
        v("FederationId"),
        v("UserId"),
        v_internal("SpokeId"),
        v("CustomAttribute"),
        v("PersistentId"),
    ],
);
pub static SCREEN_LOCK_TIMEOUT: EnumDef = enum_def(
    "ScreenLockTimeout",
    &[
        v("Never"),
        v("One"),
        v("Five"),
        v("Ten"),
        v("Thirty"),
        v("Sixty"),
        v("OneTwenty"),
        v("OneEighty"),
        v("TwoForty"),
    ],
);
pub static PUSH_SERVICE: EnumDef = enum_def("PushServiceType", &[v("Apple"), v("Android")]);
pub static APPLE_PUSH_ENV: EnumDef =
    enum_def("ApplePushEnvironmentType", &[v("Sandbox"), v("Production")]);
pub static ACCESS_METHOD: EnumDef = enum_def("AccessMethod", &[v("Get"), v("Post")]);
pub static CANVAS_LOCATION: EnumDef = enum_def(
    "CanvasLocationOptions",
    &[
        v("None"),
        v("Chatter"),
        v("UserProfile"),
        v("Visualforce"),
        v("Aura"),
        v("Publisher"),
        v("ChatterFeed"),
        v("ServiceDesk"),
        v("OpenCTI"),
        v("AppLauncher"),
        v("MobileNav"),
        v("PageLayout"),
    ],
);
pub static CANVAS_OPTIONS: EnumDef = enum_def(
    "CanvasOptions",
    &[v("HideShare"), v("HideHeader"), v("PersonalEnabled")],
);
pub static SAML_INITIATION: EnumDef = enum_def(
    "SamlInitiationMethod",
    &[v("None"), v("IdpInitiated"), v("SpInitiated")],
);
pub static ATTEST_SERVICE: EnumDef = enum_def("AttestServiceType", &[v("Apple"), v("Android")]);
pub static ATTEST_ENFORCE: EnumDef = enum_def(
    "AttestEnforceLevel",
    &[v("None"), v("ClientControlled"), v("Strict")],
);
pub static TLS_CERT_PARAM: EnumDef = enum_def(
    "TlsClientAuthCertParamType",
    &[
        v("tls_client_auth_subject_dn"),
        v("tls_client_auth_san_dns"),
        v("tls_client_auth_san_uri"),
        v("tls_client_auth_san_ip"),
        v("tls_client_auth_san_email"),
        v("tls_client_auth_san_spiffe"),
    ],
);

// Nested complex types.

pub static OAUTH_SETTINGS_ATTRIBUTE: ComplexDef = ComplexDef {
    name: "ExtlClntAppOauthSettingsAttribute",
    fields: &[s("formula").req(), s("key").req()],
};
pub static OAUTH_POLICIES_ATTRIBUTE: ComplexDef = ComplexDef {
    name: "ExtlClntAppOauthPoliciesAttribute",
    fields: &[s("formula").req(), s("key").req()],
};
pub static SAML_ATTRIBUTE: ComplexDef = ComplexDef {
    name: "ExtlClntAppSamlConfigurablePoliciesAttribute",
    fields: &[s("formula").req(), s("key").req()],
};
pub static IP_RANGE: ComplexDef = ComplexDef {
    name: "ExtlClntAppOauthIpRange",
    fields: &[
        s("description"),
        s("endIpAddress").req(),
        s("startIpAddress").req(),
    ],
};
pub static ID_TOKEN_CONFIG: ComplexDef = ComplexDef {
    name: "ExternalAppIdTokenConfig",
    fields: &[
        s("idTokenAudience"),
        b("idTokenIncludeAttributes"),
        b("idTokenIncludeCustomPermissions"),
        b("idTokenIncludeStandardClaims"),
        i("idTokenValidityInMinutes"),
    ],
};
pub static NOTIFICATION_TYPE: ComplexDef = ComplexDef {
    name: "ExtlClntAppNotificationType",
    fields: &[s("notificationType").req(), b("pushByDefault")],
};
pub static ANDROID_PUSH_CONFIG: ComplexDef = ComplexDef {
    name: "ExtlClntAppAndroidPushConfig",
    fields: &[s("fcmProject").req(), s("serviceAccount").req()],
};
pub static APPLE_PUSH_CONFIG: ComplexDef = ComplexDef {
    name: "ExtlClntAppApplePushConfig",
    fields: &[
        s("applicationBundle"),
        s("certificate"),
        e("environment", &APPLE_PUSH_ENV).req(),
        s("keyIdentifier"),
        s("password"),
        s("signingKey"),
        s("teamIdentifier"),
    ],
};

// Top-level types, one table each (`spec/metadata.md` §2.1–§2.8).

pub static HEADER: ComplexDef = ComplexDef {
    name: "ExternalClientApplication",
    fields: &[
        s("contactEmail"),
        s("contactPhone"),
        s("description"),
        e("distributionState", &DIST_STATE),
        s("iconUrl"),
        s("infoUrl"),
        b("isProtected"),
        s("label"),
        s("logoUrl"),
        e("managedType", &MANAGED_TYPE),
        s("orgScopedExternalApp"),
    ],
};

pub static OAUTH_SETTINGS: ComplexDef = ComplexDef {
    name: "ExtlClntAppOauthSettings",
    fields: &[
        b("areAttributesIncludedInAssetToken").since(61),
        b("areCustomPermsIncludedInAssetToken").since(61),
        s("assetTokenAudiences").since(61),
        s("assetTokenSigningCertificate").since(61),
        i("assetTokenValidity").since(61),
        s("clientAssertionCertificate").since(62),
        s("commaSeparatedCustomScopes").since(61),
        s("commaSeparatedOauthScopes"),
        c("customAttributes", &OAUTH_SETTINGS_ATTRIBUTE).many(),
        s("externalClientApplication").req(),
        b("isFirstPartyAppEnabled").since(62),
        s("label"),
        s("oauthLink"),
        s("singleLogoutUrl"),
        c("trustedIpRanges", &IP_RANGE).many(),
    ],
};

pub static GLOBAL_OAUTH_SETTINGS: ComplexDef = ComplexDef {
    name: "ExtlClntAppGlobalOauthSettings",
    fields: &[
        s("callbackUrl"),
        s("certificate").since(60),
        s("consumerKey"),
        s("consumerSecret"),
        s("externalClientApplication").req(),
        c("idTokenConfig", &ID_TOKEN_CONFIG),
        b("isClientCredentialsFlowEnabled").since(60),
        b("isCodeCredFlowEnabled").since(61),
        b("isCodeCredPostOnly").since(61),
        b("isConsumerSecretOptional"),
        b("isDPopEnabled").since(67),
        b("isDeviceFlowEnabled").since(60),
        b("isEnforceRefreshTokenTTL").since(67),
        b("isIntrospectAllTokens"),
        b("isMtlsEnabled").since(67),
        b("isNamedUserJwtEnabled").since(61),
        b("isPkceRequired"),
        b("isRefreshTokenRotationEnabled").since(60),
        b("isSecretRequiredForRefreshToken"),
        b("isSecretRequiredForTokenExchange").since(60),
        b("isTokenExchangeEnabled").since(60),
        s("label"),
        b("shouldRotateConsumerKey"),
        b("shouldRotateConsumerSecret"),
    ],
};

pub static OAUTH_POLICIES: ComplexDef = ComplexDef {
    name: "ExtlClntAppOauthConfigurablePolicies",
    fields: &[
        s("apexHandler").since(61),
        s("clientCredentialsFlowUser").since(60),
        s("commaSeparatedCustomScopes").since(61),
        s("commaSeparatedPermissionSet"),
        s("commaSeparatedProfile").since(62),
        c("customAttributes", &OAUTH_POLICIES_ATTRIBUTE).many(),
        s("executeHandlerAs").since(61),
        s("externalClientApplication").req(),
        e("guestJwtSessionTimeoutType", &JWT_TIMEOUT_TYPE).since(65),
        i("guestJwtTimeout").since(61),
        e("ipRelaxationPolicyType", &IP_RELAXATION),
        b("isClientCredentialsFlowEnabled").since(60),
        b("isGuestCodeCredFlowEnabled").since(61),
        b("isNamedUserJwtEnabled").since(61).until(63),
        b("isTokenExchangeFlowEnabled").since(60),
        s("label"),
        e("namedUserJwtSessionTimeoutType", &JWT_TIMEOUT_TYPE).since(65),
        i("namedUserJwtTimeout").since(61),
        e("permittedUsersPolicyType", &PERMITTED_USERS),
        e("policyAction", &POLICY_ACTION),
        e("refreshTokenPolicyType", &REFRESH_TOKEN_POLICY),
        i("refreshTokenValidityPeriod"),
        e("refreshTokenValidityUnit", &REFRESH_TOKEN_UNIT),
        e("requiredSessionLevel", &SESSION_LEVEL),
        i("sessionTimeoutInMinutes"),
        s("singleLogoutUrl"),
        s("startUrl"),
    ],
};

pub static APP_POLICIES: ComplexDef = ComplexDef {
    name: "ExtlClntAppConfigurablePolicies",
    fields: &[
        s("externalClientApplication").req(),
        b("isAttestPluginEnabled").since(67),
        b("isCanvasPluginEnabled").since(65),
        b("isEnabled").req(),
        b("isMobilePluginEnabled").since(62),
        b("isNotificationPluginEnabled"),
        b("isOauthPluginEnabled"),
        b("isPushPluginEnabled").since(62),
        b("isSamlPluginEnabled").since(63),
        s("label"),
        e("startPage", &START_PAGE).since(62),
        s("startUrl").since(62),
    ],
};

pub static SAML_POLICIES: ComplexDef = ComplexDef {
    name: "ExtlClntAppSamlConfigurablePolicies",
    fields: &[
        s("acsUrl").req(),
        s("certificate"),
        s("commaSeparatedPermissionSet"),
        s("commaSeparatedProfile"),
        c("customAttributes", &SAML_ATTRIBUTE).many(),
        s("encryptionCertificate"),
        e("encryptionType", &SAML_ENCRYPT),
        s("entityUrl").req(),
        s("externalClientApplication").req(),
        s("issuer"),
        s("label"),
        e("nameIdFormat", &NAME_ID_FORMAT),
        e("signingAlgorithmType", &SAML_SIGN_ALGO),
        e("singleLogoutBindingType", &SAML_BINDING),
        s("singleLogoutUrl"),
        s("startUrl").until(63),
        s("subjectCustomAttribute"),
        e("subjectType", &SAML_SUBJECT),
    ],
};

pub static MOBILE_SETTINGS: ComplexDef = ComplexDef {
    name: "ExtlClntAppMobileSettings",
    fields: &[
        s("externalClientApplication").req(),
        b("isScreenLockEnabled").req(),
        s("label"),
    ],
};

pub static MOBILE_POLICIES: ComplexDef = ComplexDef {
    name: "ExtlClntAppMobileConfigurablePolicies",
    fields: &[
        s("externalClientApplication").req(),
        s("label"),
        e("screenLockTimeout", &SCREEN_LOCK_TIMEOUT).req(),
    ],
};

pub static NOTIFICATION_SETTINGS: ComplexDef = ComplexDef {
    name: "ExtlClntAppNotificationSettings",
    fields: &[
        s("externalClientApplication").req(),
        s("label"),
        c("notificationTypes", &NOTIFICATION_TYPE).many(),
    ],
};

pub static PUSH_SETTINGS: ComplexDef = ComplexDef {
    name: "ExtlClntAppPushSettings",
    fields: &[
        c("androidPushConfig", &ANDROID_PUSH_CONFIG),
        c("applePushConfig", &APPLE_PUSH_CONFIG),
        s("externalClientApplication").req(),
        s("label"),
        s("pushConfigLink"),
        e("pushServiceType", &PUSH_SERVICE).req(),
    ],
};

pub static PUSH_POLICIES: ComplexDef = ComplexDef {
    name: "ExtlClntAppPushConfigurablePolicies",
    fields: &[
        s("externalClientApplication").req(),
        b("isFullContent").req(),
        s("label"),
    ],
};

pub static CANVAS_SETTINGS: ComplexDef = ComplexDef {
    name: "ExtlClntAppCanvasSettings",
    fields: &[
        e("accessMethod", &ACCESS_METHOD),
        e("canvasLocationOptions", &CANVAS_LOCATION).many(),
        e("canvasOptions", &CANVAS_OPTIONS).many(),
        s("canvasUrl").req(),
        s("externalClientApplication").req(),
        s("label"),
        s("lifeCycleHandler"),
        e("samlInitiationMethod", &SAML_INITIATION),
    ],
};

pub static OAUTH_SECURITY_SETTINGS: ComplexDef = ComplexDef {
    name: "ExtlClntAppOauthSecuritySettings",
    fields: &[
        s("externalClientApplication").req(),
        s("label"),
        e("tlsClientAuthCertParamType", &TLS_CERT_PARAM),
        s("tlsClientAuthCertParamValue"),
        c("tokenIpRanges", &IP_RANGE).many(),
    ],
};

pub static ATTEST_SETTINGS: ComplexDef = ComplexDef {
    name: "ExtlClntAppAttestSettings",
    fields: &[
        s("attestConfigLink"),
        e("attestServiceType", &ATTEST_SERVICE).req(),
        s("externalClientApplication").req(),
        s("label"),
    ],
};

pub static ATTEST_POLICIES: ComplexDef = ComplexDef {
    name: "ExtlClntAppAttestConfigurablePolicies",
    fields: &[
        e("attestEnforceLevel", &ATTEST_ENFORCE).req(),
        s("externalClientApplication").req(),
        s("label"),
    ],
};

pub static SAMPLE_SETTINGS: ComplexDef = ComplexDef {
    name: "ExtlClntAppSampleSettings",
    fields: &[
        s("devicePlatform"),
        s("deviceType"),
        s("externalClientApplication").req(),
        s("label"),
    ],
};

pub static SAMPLE_POLICIES: ComplexDef = ComplexDef {
    name: "ExtlClntAppSampleConfigurablePolicies",
    fields: &[
        s("adminOnlyPolicy"),
        s("externalClientApplication").req(),
        s("label"),
        s("policy1"),
        s("policy2"),
    ],
};

pub static ORG_SETTINGS: ComplexDef = ComplexDef {
    name: "ExternalClientAppSettings",
    fields: &[
        b("enableClientSecretInRestApiAccess").since(62),
        b("enableConsumerSecretApiAccess"),
        b("enableExternalClientApps").until(62),
        b("enablePackageEcaOauthFromDevOrg").since(62),
    ],
};

/// The schema of a top-level type.
pub fn of(ty: MetadataType) -> &'static ComplexDef {
    match ty {
        MetadataType::ExternalClientApplication => &HEADER,
        MetadataType::OauthSettings => &OAUTH_SETTINGS,
        MetadataType::GlobalOauthSettings => &GLOBAL_OAUTH_SETTINGS,
        MetadataType::OauthPolicies => &OAUTH_POLICIES,
        MetadataType::AppPolicies => &APP_POLICIES,
        MetadataType::SamlPolicies => &SAML_POLICIES,
        MetadataType::MobileSettings => &MOBILE_SETTINGS,
        MetadataType::MobilePolicies => &MOBILE_POLICIES,
        MetadataType::NotificationSettings => &NOTIFICATION_SETTINGS,
        MetadataType::PushSettings => &PUSH_SETTINGS,
        MetadataType::PushPolicies => &PUSH_POLICIES,
        MetadataType::CanvasSettings => &CANVAS_SETTINGS,
        MetadataType::OauthSecuritySettings => &OAUTH_SECURITY_SETTINGS,
        MetadataType::AttestSettings => &ATTEST_SETTINGS,
        MetadataType::AttestPolicies => &ATTEST_POLICIES,
        MetadataType::SampleSettings => &SAMPLE_SETTINGS,
        MetadataType::SamplePolicies => &SAMPLE_POLICIES,
        MetadataType::OrgSettings => &ORG_SETTINGS,
    }
}

impl ComplexDef {
    /// The field called `name`.
    pub fn field(&'static self, name: &str) -> Option<&'static FieldDef> {
        self.fields.iter().find(|f| f.name == name)
    }
}

/// A stored component of type `ty` as a retrieve at `version` writes it: without the elements
/// that do not exist at that version (fields generated by a later version's deploy, such as
/// `isFirstPartyAppEnabled` from 62, or removed since, such as the policies'
/// `isNamedUserJwtEnabled` after 63), so that the files deploy again at that version
/// (`spec/metadata.md` §10: fields are gated by version). Elements the schema does not know
/// are left alone. The text comes back unchanged when nothing is dropped, or when it does not
/// parse.
pub fn for_version(ty: MetadataType, xml: &str, version: ApiVersion) -> String {
    let Ok(doc) = crate::xml::parse_str(xml) else {
        return xml.to_owned();
    };
    let mut root = doc.root;
    if drop_absent(of(ty), &mut root, version) {
        crate::xml::write_canonical(&root)
    } else {
        xml.to_owned()
    }
}

/// `deployed` (a component of type `ty` deployed at `version`) with the elements of `held`
/// (what the org holds under its name) that are newer than `version`: a deploy at an older
/// version leaves alone what it cannot name yet, just as a retrieve at that version leaves it
/// out ([`for_version`]). So retrieving and redeploying at an older version loses nothing.
/// Elements removed before `version` are not carried: a later version replaced them (the
/// policies' `isNamedUserJwtEnabled` moved to the global settings in 64, and a stale value
/// would override the new one). `None` when there is nothing to carry over (or either text
/// does not parse).
pub fn carry_over(
    ty: MetadataType,
    held: &str,
    deployed: &str,
    version: ApiVersion,
) -> Option<crate::xml::Element> {
    let held = crate::xml::parse_str(held).ok()?.root;
    let mut deployed = crate::xml::parse_str(deployed).ok()?.root;
    carry_absent(of(ty), &held, &mut deployed, version).then_some(deployed)
}

/// Whether type `ty` has an element (at any depth) newer than `version`: if not, a deploy at
/// `version` has nothing to [`carry_over`], and the deploy engine skips writing and parsing
/// the component twice.
pub fn has_newer_elements(ty: MetadataType, version: ApiVersion) -> bool {
    fn newer(def: &'static ComplexDef, version: ApiVersion) -> bool {
        def.fields.iter().any(|f| {
            version.major() < f.since
                || matches!(f.kind, Kind::Complex(inner) if newer(inner, version))
        })
    }
    newer(of(ty), version)
}

/// Adds to `into` the children of `from` that are newer than `version` (recursing into
/// complex children both hold once); whether it added any.
fn carry_absent(
    def: &'static ComplexDef,
    from: &crate::xml::Element,
    into: &mut crate::xml::Element,
    version: ApiVersion,
) -> bool {
    let mut carried = false;
    for child in &from.children {
        let Some(field) = def.field(&child.name) else {
            continue;
        };
        if version.major() < field.since {
            if !into.children.iter().any(|c| c.name == child.name) || field.repeated {
                into.children.push(child.clone());
                carried = true;
            }
        } else if let Kind::Complex(inner) = field.kind
            && !field.repeated
            && let Some(target) = into.children.iter_mut().find(|c| c.name == child.name)
        {
            carried |= carry_absent(inner, child, target, version);
        }
    }
    carried
}

/// Drops the children of `element` (and of its complex children) that do not exist at
/// `version`; whether it dropped any.
fn drop_absent(
    def: &'static ComplexDef,
    element: &mut crate::xml::Element,
    version: ApiVersion,
) -> bool {
    let before = element.children.len();
    element
        .children
        .retain(|c| def.field(&c.name).is_none_or(|f| f.exists_at(version)));
    let mut dropped = element.children.len() != before;
    for child in &mut element.children {
        if let Some(FieldDef {
            kind: Kind::Complex(inner),
            ..
        }) = def.field(&child.name)
        {
            dropped |= drop_absent(inner, child, version);
        }
    }
    dropped
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_component_for_an_earlier_version_loses_the_later_elements_only() {
        let document = |root: &str, children: &[&str]| {
            let mut out = format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<{root} xmlns=\"http://soap.sforce.com/2006/04/metadata\">\n"
            );
            for child in children {
                out.push_str(&format!("    {child}\n"));
            }
            out.push_str(&format!("</{root}>\n"));
            out
        };
        let scopes = "<commaSeparatedOauthScopes>Api</commaSeparatedOauthScopes>";
        let app = "<externalClientApplication>Shop</externalClientApplication>";
        let label = "<label>Shop</label>";
        let first_party = "<isFirstPartyAppEnabled>false</isFirstPartyAppEnabled>";
        let stored = document(
            "ExtlClntAppOauthSettings",
            &[scopes, app, first_party, label],
        );
        let at = |v| for_version(MetadataType::OauthSettings, &stored, ApiVersion::new(v));
        assert_eq!(at(66), stored);
        assert_eq!(at(62), stored);
        assert_eq!(
            at(60),
            document("ExtlClntAppOauthSettings", &[scopes, app, label])
        );
        // Removed since: the policies' `isNamedUserJwtEnabled` (61 to 63).
        let jwt = "<isNamedUserJwtEnabled>false</isNamedUserJwtEnabled>";
        let policies = document("ExtlClntAppOauthConfigurablePolicies", &[app, jwt, label]);
        let at = |v| for_version(MetadataType::OauthPolicies, &policies, ApiVersion::new(v));
        assert_eq!(at(62), policies);
        assert_eq!(
            at(64),
            document("ExtlClntAppOauthConfigurablePolicies", &[app, label])
        );
        assert_eq!(
            for_version(MetadataType::OauthPolicies, "not xml", ApiVersion::new(60)),
            "not xml"
        );
        // A deploy at 60 of what a retrieve at 60 gave keeps the held later elements.
        let redeployed = document("ExtlClntAppOauthSettings", &[scopes, app, label]);
        let carried = carry_over(
            MetadataType::OauthSettings,
            &stored,
            &redeployed,
            ApiVersion::new(60),
        )
        .expect("isFirstPartyAppEnabled is carried over");
        assert_eq!(crate::xml::write_canonical(&carried), stored);
        assert!(has_newer_elements(
            MetadataType::OauthSettings,
            ApiVersion::new(60)
        ));
        assert!(!has_newer_elements(
            MetadataType::OauthSettings,
            ApiVersion::new(99)
        ));
        // Removed since the held deploy: not carried, the newer version replaced it.
        assert!(
            carry_over(
                MetadataType::OauthPolicies,
                &policies,
                &document("ExtlClntAppOauthConfigurablePolicies", &[app, label]),
                ApiVersion::new(66)
            )
            .is_none()
        );
        // At a version that has the element, the deploy says what it is: nothing to carry.
        assert!(
            carry_over(
                MetadataType::OauthSettings,
                &stored,
                &redeployed,
                ApiVersion::new(66)
            )
            .is_none()
        );
    }

    #[test]
    fn tables_are_sorted_and_unique() {
        fn check(def: &ComplexDef) {
            for w in def.fields.windows(2) {
                assert!(
                    w[0].name < w[1].name,
                    "{}: {} !< {}",
                    def.name,
                    w[0].name,
                    w[1].name
                );
            }
            for f in def.fields {
                if let Kind::Complex(inner) = f.kind {
                    check(inner);
                }
            }
        }
        for ty in MetadataType::ALL {
            let def = of(*ty);
            assert_eq!(def.name, ty.name());
            check(def);
        }
    }
}
