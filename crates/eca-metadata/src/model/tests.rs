use std::path::{Path, PathBuf};

use super::*;
use crate::schema;
use crate::version::ApiVersion;
use crate::xml::parse_str;

/// The example files of `spec/metadata.md` §11 (see the README in that folder).
fn examples_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/spec-examples")
}

/// Every example file: its type, full name, path relative to the folder, and text.
fn examples() -> Vec<(MetadataType, String, String, String)> {
    let mut out = Vec::new();
    let root = examples_dir();
    for dir in std::fs::read_dir(&root).unwrap() {
        let dir = dir.unwrap().path();
        if !dir.is_dir() {
            continue;
        }
        let dir_name = dir.file_name().unwrap().to_str().unwrap().to_owned();
        let ty = MetadataType::from_directory(&dir_name)
            .unwrap_or_else(|| panic!("{dir_name} is not a metadata folder"));
        for file in std::fs::read_dir(&dir).unwrap() {
            let file = file.unwrap().path();
            let file_name = file.file_name().unwrap().to_str().unwrap().to_owned();
            let tail = format!(".{}-meta.xml", ty.suffix());
            let full_name = file_name
                .strip_suffix(&tail)
                .unwrap_or_else(|| panic!("{file_name} does not end in {tail}"))
                .to_owned();
            let text = std::fs::read_to_string(&file).unwrap();
            out.push((ty, full_name, format!("{dir_name}/{file_name}"), text));
        }
    }
    out.sort_by(|a, b| a.2.cmp(&b.2));
    out
}

/// The model of one example file, by its path in the examples folder.
fn example(rel: &str) -> Component {
    let (ty, name, _, text) = examples()
        .into_iter()
        .find(|e| e.2 == rel)
        .unwrap_or_else(|| panic!("no example {rel}"));
    read(ty, &name, &text)
}

fn example_text(rel: &str) -> String {
    std::fs::read_to_string(examples_dir().join(rel)).unwrap()
}

fn read(ty: MetadataType, name: &str, text: &str) -> Component {
    let doc = parse_str(text).unwrap();
    Component::from_element(ty, name, &doc.root)
}

/// Reads `text`, writes the model, reads that again: the two models must be equal, and
/// writing the second gives the same text (canonical form is a fixed point).
fn round_trip(ty: MetadataType, name: &str, text: &str) -> (Component, String) {
    let model = read(ty, name, text);
    let written = model.to_xml();
    let again = read(ty, name, &written);
    assert_eq!(model, again, "model changed through\n{written}");
    assert_eq!(again.to_xml(), written);
    (model, written)
}

/// The retrieved (or generated) examples, which are already in Salesforce's canonical form.
const CANONICAL: &[&str] = &[
    "externalClientApps/ecaViaMetadata.eca-meta.xml",
    "externalClientApps/Onyx_Cloud.eca-meta.xml",
    "externalClientApps/SOLU_CI_CD.eca-meta.xml",
    "extlClntAppOauthSettings/ecaViaMetadataSettings.ecaOauth-meta.xml",
    "extlClntAppOauthSettings/SOLU_CI_CD_oauth.ecaOauth-meta.xml",
    "extlClntAppOauthSettings/Onyx_Cloud_oauth.ecaOauth-meta.xml",
    "extlClntAppGlobalOauthSets/ecaViaMetadataGlblOAuth.ecaGlblOauth-meta.xml",
    "extlClntAppGlobalOauthSets/ecaViaMetadataGlblOAuth_authored.ecaGlblOauth-meta.xml",
    "extlClntAppGlobalOauthSets/Box_Automate_CLM_glbloauth.ecaGlblOauth-meta.xml",
    "extlClntAppGlobalOauthSets/SOLU_CI_CD_glbloauth.ecaGlblOauth-meta.xml",
    "extlClntAppOauthPolicies/ecaViaMetadataSettings_defaultPolicy.ecaOauthPlcy-meta.xml",
    "extlClntAppOauthPolicies/Box_Automate_CLM_oauthPlcy.ecaOauthPlcy-meta.xml",
    "extlClntAppOauthPolicies/myappOAuthSettings_defaultPolicy.ecaOauthPlcy-meta.xml",
    "extlClntAppPolicies/SOLU_CI_CD_plcy.ecaPlcy-meta.xml",
];

#[test]
fn every_example_round_trips_through_the_model() {
    let all = examples();
    assert_eq!(all.len(), 21, "the §11 examples that are XML");
    for (ty, name, rel, text) in &all {
        let (model, written) = round_trip(*ty, name, text);
        assert_eq!(model.ty(), *ty, "{rel}");
        assert_eq!(model.full_name(), name, "{rel}");
        assert!(model.extra().is_empty(), "{rel}: {:?}", model.extra());
        if CANONICAL.contains(&rel.as_str()) {
            assert_eq!(&written, text, "{rel} is not written back byte for byte");
        } else {
            assert_ne!(&written, text, "{rel} is canonical; list it in CANONICAL");
        }
    }
    for rel in CANONICAL {
        assert!(all.iter().any(|e| e.2 == *rel), "missing example {rel}");
    }
}

#[test]
fn header_examples() {
    let Component::Header(h) = example("externalClientApps/ecaViaMetadata.eca-meta.xml") else {
        panic!()
    };
    assert_eq!(h.contact_email.as_deref(), Some("eca_metadata@example.com"));
    assert_eq!(h.distribution_state, Some(DistributionState::Local));
    assert_eq!(h.is_protected, Some(false));
    assert_eq!(h.label.as_deref(), Some("ecaViaMetadata"));
    assert_eq!(
        h.org_scoped_external_app.as_deref(),
        Some("00DQy00000ELR0T:ecaViaMetadata")
    );
    assert!(!h.is_packaged());

    let onyx = example("externalClientApps/Onyx_Cloud.eca-meta.xml");
    assert!(matches!(&onyx, Component::Header(h) if h.is_packaged()));
    assert_eq!(onyx.app(), None);
    assert_eq!(onyx.label(), Some("Onyx Cloud"));

    let Component::Header(sample) = example("externalClientApps/myeca.eca-meta.xml") else {
        panic!()
    };
    assert_eq!(sample.icon_url.as_deref(), Some("https://icon.example.com"));
    assert_eq!(sample.info_url.as_deref(), Some("https://info.example.com"));
    assert_eq!(sample.logo_url.as_deref(), Some("https://logo.example.com"));
}

#[test]
fn oauth_settings_examples() {
    let c = example("extlClntAppOauthSettings/ecaViaMetadataSettings.ecaOauth-meta.xml");
    assert_eq!(c.app(), Some("ecaViaMetadata"));
    let Component::OauthSettings(s) = c else {
        panic!()
    };
    assert_eq!(
        s.scopes,
        [OauthScope::Api, OauthScope::Web, OauthScope::OpenId]
    );
    assert_eq!(s.is_first_party_app_enabled, Some(false));
    assert_eq!(
        s.oauth_link.as_deref(),
        Some("00DQy00000ELR0T:888Qy00000071Af")
    );
    assert!(s.has_scope(OauthScope::OpenId));

    let Component::OauthSettings(s) =
        example("extlClntAppOauthSettings/myeca_oauth.ecaOauth-meta.xml")
    else {
        panic!()
    };
    assert_eq!(s.scopes, [OauthScope::Basic, OauthScope::Web]);
    assert_eq!(
        s.trusted_ip_ranges,
        [
            IpRange {
                start: "10.55.2.0".into(),
                end: "10.55.2.255".into(),
                description: Some("Building 6".into()),
            },
            IpRange {
                start: "10.55.12.0".into(),
                end: "10.55.12.255".into(),
                description: None,
            },
        ]
    );
    assert_eq!(
        s.custom_attributes,
        [CustomAttribute::new("userattribute", "User.Country")]
    );
}

#[test]
fn global_oauth_settings_examples() {
    let Component::GlobalOauthSettings(g) =
        example("extlClntAppGlobalOauthSets/ecaViaMetadataGlblOAuth.ecaGlblOauth-meta.xml")
    else {
        panic!()
    };
    assert_eq!(
        g.callback_urls(),
        ["https://openidconnect.herokuapp.com/callback"]
    );
    assert!(g.consumer_key.as_deref().unwrap().starts_with("3MVG9k02"));
    assert!(g.consumer_secret.is_none());
    assert!(!g.pkce_required(), "written false");
    assert!(g.secret_required_for_refresh_token());
    assert!(!g.jwt_bearer_enabled());
    assert!(!g.client_credentials_enabled());
    assert_eq!(g.should_rotate_consumer_key, Some(false));
    assert_eq!(g.id_token_validity_minutes(), 2);

    let Component::GlobalOauthSettings(box_app) =
        example("extlClntAppGlobalOauthSets/Box_Automate_CLM_glbloauth.ecaGlblOauth-meta.xml")
    else {
        panic!()
    };
    assert!(box_app.client_credentials_enabled());
    assert!(box_app.refresh_token_rotation_enabled());
    assert_eq!(box_app.is_enforce_refresh_token_ttl, Some(true));

    let Component::GlobalOauthSettings(jwt) =
        example("extlClntAppGlobalOauthSets/SOLU_CI_CD_glbloauth.ecaGlblOauth-meta.xml")
    else {
        panic!()
    };
    assert!(jwt.jwt_bearer_enabled());
    assert!(jwt.named_user_jwt_enabled());
    let cert = jwt.certificate.as_deref().unwrap();
    assert!(cert.starts_with("MIIDkTCCAnmgAwIBAgIU"));
    assert!(
        cert.ends_with("\nWgpBqao="),
        "inner newlines are kept: {cert:?}"
    );
    assert_eq!(cert.lines().count(), 4);
}

#[test]
fn oauth_policies_examples() {
    let Component::OauthPolicies(p) =
        example("extlClntAppOauthPolicies/Box_Automate_CLM_oauthPlcy.ecaOauthPlcy-meta.xml")
    else {
        panic!()
    };
    assert_eq!(
        p.client_credentials_flow_user.as_deref(),
        Some("box.automate.clm+00dgl000003d0lrua0@boxdemo.com")
    );
    assert_eq!(p.permission_sets(), ["CLM_Box_Automate_Integration"]);
    assert!(p.profiles().is_empty());
    assert_eq!(p.ip_relaxation, Some(IpRelaxation::Bypass));
    assert!(p.client_credentials_enabled());
    assert_eq!(
        p.named_user_jwt_session_timeout_type,
        Some(JwtSessionTimeoutType::UserSession)
    );
    assert_eq!(p.permitted(), PermittedUsers::AdminApprovedPreAuthorized);
    assert_eq!(p.refresh_token_policy, Some(RefreshTokenPolicyType::Zero));
    assert_eq!(p.refresh_token_validity_period, Some(0));
    assert_eq!(p.refresh_token_validity_unit, None);
    assert_eq!(p.required_session_level, Some(SessionLevel::Standard));

    let Component::OauthPolicies(p) =
        example("extlClntAppOauthPolicies/myappOAuthSettings_defaultPolicy.ecaOauthPlcy-meta.xml")
    else {
        panic!()
    };
    assert_eq!(p.profiles(), ["System Administrator"]);
    assert_eq!(p.refresh_token_validity_period, Some(4));
    assert_eq!(p.refresh_token_validity_unit, Some(RefreshTokenUnit::Hours));
}

#[test]
fn app_policies_and_saml_and_canvas_and_org_examples() {
    let Component::AppPolicies(p) = example("extlClntAppPolicies/myecapolicy.ecaPlcy-meta.xml")
    else {
        panic!()
    };
    assert_eq!(p.start_page, Some(StartPage::OAuth));
    assert_eq!(p.start_url.as_deref(), Some("https://example.org"));
    assert!(Plugin::ALL.iter().all(|pl| p.plugin_enabled(*pl)));

    let Component::SamlPolicies(s) =
        example("extlClntAppSamlConfigurablePolicies/myeca_samlpolicies.ecaSamlPlcy-meta.xml")
    else {
        panic!()
    };
    assert_eq!(
        s.acs_url.as_deref(),
        Some("https://sp.example.com/saml/acs")
    );
    assert_eq!(
        s.entity_url.as_deref(),
        Some("https://sp.example.com/saml/metadata")
    );
    assert_eq!(s.app, "mySamlEca");
    assert_eq!(s.name_id(), NameIdFormat::Unspecified);
    assert_eq!(s.single_logout_binding, Some(SamlBinding::RedirectBinding));
    assert_eq!(s.subject_type, Some(SamlSubjectType::CustomAttribute));
    assert_eq!(s.subject_custom_attribute.as_deref(), Some("MyCustomField"));
    assert_eq!(s.encryption_type, Some(SamlEncryptionType::Aes128));
    assert_eq!(s.signing_algorithm, Some(SamlSigningAlgorithm::Sha1));
    assert_eq!(
        s.custom_attributes,
        [
            CustomAttribute::new("User Firstname", "$User.FirstName"),
            CustomAttribute::new("User Country", "$User.Country"),
        ]
    );

    let Component::CanvasSettings(c) =
        example("extlClntAppCanvasSettings/testCanvasECA_canvasSettings.ecaCanvas-meta.xml")
    else {
        panic!()
    };
    assert_eq!(c.access_method.as_deref(), Some("Post"));
    assert_eq!(c.canvas_location_options, ["Aura", "Visualforce"]);
    assert_eq!(c.canvas_options, ["HideHeader"]);
    assert_eq!(c.app, "testCanvasECA");

    let org = example("settings/ExternalClientApp.settings-meta.xml");
    assert_eq!((org.app(), org.label()), (None, None));
    let Component::OrgSettings(o) = org else {
        panic!()
    };
    assert_eq!(o.full_name, "ExternalClientApp");
    assert_eq!(o.enable_client_secret_in_rest_api_access, Some(true));
    assert_eq!(o.enable_consumer_secret_api_access, Some(true));
    assert_eq!(o.enable_package_eca_oauth_from_dev_org, Some(false));
    assert_eq!(o.enable_external_client_apps, None);
}

#[test]
fn default_oauth_policy_is_what_the_platform_generates() {
    // §11.4: the policy the platform generated on a v62 deploy, byte for byte.
    let rel = "extlClntAppOauthPolicies/ecaViaMetadataSettings_defaultPolicy.ecaOauthPlcy-meta.xml";
    let generated = OauthPolicies::default_for(
        "ecaViaMetadata",
        "ecaViaMetadataSettings_defaultPolicy",
        ApiVersion::new(62),
    );
    assert_eq!(example(rel), Component::from(generated.clone()));
    assert_eq!(Component::from(generated).to_xml(), example_text(rel));

    // `isNamedUserJwtEnabled` exists only in API 61–63.
    for (major, expected) in [(60, None), (61, Some(false)), (63, Some(false)), (64, None)] {
        let p = OauthPolicies::default_for("a", "a_oauth_defaultPolicy", ApiVersion::new(major));
        assert_eq!(p.is_named_user_jwt_enabled, expected, "v{major}");
        assert_eq!(p.label.as_deref(), Some("a_oauth_defaultPolicy"));
    }
}

#[test]
fn default_app_policy_is_what_the_platform_generates() {
    let generated = AppPolicies::default_for("ecaViaMetadata", "ecaViaMetadata_defaultPolicy");
    assert_eq!(
        example("extlClntAppPolicies/ecaViaMetadata_defaultPolicy.ecaPlcy-meta.xml"),
        Component::from(generated.clone())
    );
    assert!(generated.plugin_enabled(Plugin::Oauth));
    assert_eq!(generated.start_page, Some(StartPage::None));
}

#[test]
fn plugin_switches() {
    fn check(is_enabled: Option<bool>, oauth: Option<bool>, expected: bool) {
        let p = AppPolicies {
            is_enabled,
            is_oauth_plugin_enabled: oauth,
            ..AppPolicies::default()
        };
        assert_eq!(
            p.plugin_enabled(Plugin::Oauth),
            expected,
            "{is_enabled:?} {oauth:?}"
        );
    }
    check(Some(true), Some(true), true);
    check(Some(true), Some(false), false);
    check(Some(true), None, true);
    check(Some(false), Some(true), false);
    check(Some(false), None, false);
    check(None, None, true);
    check(None, Some(false), false);

    let p = AppPolicies {
        is_enabled: Some(true),
        is_saml_plugin_enabled: Some(false),
        ..AppPolicies::default()
    };
    assert!(!p.plugin_enabled(Plugin::Saml));
    assert!(p.plugin_enabled(Plugin::Canvas));
    // Every plugin's element is in the schema, so none of them ends up in `extra`.
    for plugin in Plugin::ALL {
        assert!(
            schema::APP_POLICIES.field(plugin.element()).is_some(),
            "{plugin:?}"
        );
    }
}

const NS: &str = "http://soap.sforce.com/2006/04/metadata";

fn doc(root: &str, body: &str) -> String {
    format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<{root} xmlns=\"{NS}\">{body}</{root}>\n")
}

#[test]
fn unknown_elements_survive_a_round_trip() {
    let text = doc(
        "ExtlClntAppGlobalOauthSettings",
        "<externalClientApplication>a</externalClientApplication>
         <isFutureSwitchEnabled>true</isFutureSwitchEnabled>
         <futureBlock>
            <zeta>z &amp; y</zeta>
            <alpha/>
         </futureBlock>
         <idTokenConfig>
            <idTokenValidityInMinutes>5</idTokenValidityInMinutes>
            <idTokenFutureClaim>x</idTokenFutureClaim>
         </idTokenConfig>",
    );
    let (model, written) = round_trip(MetadataType::GlobalOauthSettings, "a_glbl", &text);
    let names: Vec<&str> = model.extra().iter().map(|e| e.name.as_str()).collect();
    assert_eq!(
        names,
        ["futureBlock", "isFutureSwitchEnabled"],
        "in written order"
    );
    let Component::GlobalOauthSettings(g) = &model else {
        panic!()
    };
    assert_eq!(g.id_token_validity_minutes(), 5);
    assert_eq!(g.id_token_config.as_ref().unwrap().extra.len(), 1);
    assert_eq!(
        written,
        doc(
            "ExtlClntAppGlobalOauthSettings",
            "
    <externalClientApplication>a</externalClientApplication>
    <futureBlock>
        <alpha/>
        <zeta>z &amp; y</zeta>
    </futureBlock>
    <idTokenConfig>
        <idTokenFutureClaim>x</idTokenFutureClaim>
        <idTokenValidityInMinutes>5</idTokenValidityInMinutes>
    </idTokenConfig>
    <isFutureSwitchEnabled>true</isFutureSwitchEnabled>
"
        )
    );

    // Every type keeps them, the header and the org settings included.
    for ty in MetadataType::ALL {
        let text = doc(ty.name(), "<fromTheFuture>1</fromTheFuture>");
        let (model, written) = round_trip(*ty, "x", &text);
        assert_eq!(model.extra().len(), 1, "{ty}");
        assert!(written.contains("<fromTheFuture>1</fromTheFuture>"), "{ty}");
    }
}

#[test]
fn secrets_are_redacted_in_debug() {
    assert_eq!(format!("{:?}", Secret::new("hunter2")), "Secret(***)");
    let text = doc(
        "ExtlClntAppGlobalOauthSettings",
        "<consumerSecret>hunter2-secret</consumerSecret>
         <externalClientApplication>a</externalClientApplication>",
    );
    let (model, written) = round_trip(MetadataType::GlobalOauthSettings, "a", &text);
    assert!(!format!("{model:?}").contains("hunter2"));
    assert!(!format!("{model:#?}").contains("hunter2"));
    assert!(written.contains("<consumerSecret>hunter2-secret</consumerSecret>"));
    let Component::GlobalOauthSettings(g) = model else {
        panic!()
    };
    assert_eq!(g.consumer_secret.unwrap().expose(), "hunter2-secret");

    let push = doc(
        "ExtlClntAppPushSettings",
        "<applePushConfig><environment>Sandbox</environment><signingKey>p8-key</signingKey>
         <password>p12-pass</password><certificate>p12-body</certificate></applePushConfig>
         <androidPushConfig><fcmProject>p</fcmProject><serviceAccount>sa-key</serviceAccount></androidPushConfig>
         <externalClientApplication>m</externalClientApplication>
         <pushServiceType>Apple</pushServiceType>",
    );
    let (model, _) = round_trip(MetadataType::PushSettings, "m_push", &push);
    let debug = format!("{model:?}");
    for secret in ["p8-key", "p12-pass", "p12-body", "sa-key"] {
        assert!(!debug.contains(secret), "{secret} leaked: {debug}");
    }
}

#[test]
fn illustrative_push_settings() {
    // §11.8, built from the field tables (not a real file).
    let text = r#"<ExtlClntAppPushSettings xmlns="http://soap.sforce.com/2006/04/metadata">
    <externalClientApplication>MyMobileApp</externalClientApplication>
    <label>MyMobileApp push</label>
    <pushConfigLink>00D000000000001:1Dh000000000001</pushConfigLink>
    <pushServiceType>Apple</pushServiceType>
</ExtlClntAppPushSettings>"#;
    let (model, _) = round_trip(MetadataType::PushSettings, "MyMobileApp_push", text);
    let Component::PushSettings(p) = model else {
        panic!()
    };
    assert_eq!(p.push_service_type.as_deref(), Some("Apple"));
    assert!(p.apple_push_config.is_none() && p.android_push_config.is_none());
}

#[test]
fn string_typed_enums_ignore_case_and_normalise() {
    assert_eq!(
        IpRelaxation::parse("Enforce_relaxrefresh"),
        Some(IpRelaxation::EnforceRelaxRefresh)
    );
    assert_eq!(
        IpRelaxation::parse("BYPASS_2FACTOR"),
        Some(IpRelaxation::Bypass2Factor)
    );
    assert_eq!(
        RefreshTokenUnit::parse("days"),
        Some(RefreshTokenUnit::Days)
    );
    assert_eq!(IpRelaxation::parse("RelaxIPRestrictions"), None);
    // XSD enumerations are exact.
    assert_eq!(SessionLevel::parse("standard"), None);
    assert_eq!(PermittedUsers::parse("AdminApproved"), None);
    assert_eq!(StartPage::parse("SAML"), Some(StartPage::Saml));

    let text = doc(
        "ExtlClntAppOauthConfigurablePolicies",
        "<externalClientApplication>a</externalClientApplication>
         <ipRelaxationPolicyType>Enforce_relaxrefresh</ipRelaxationPolicyType>
         <refreshTokenValidityUnit>hours</refreshTokenValidityUnit>
         <permittedUsersPolicyType>AdminApprovedUsers</permittedUsersPolicyType>",
    );
    let (_, written) = round_trip(MetadataType::OauthPolicies, "p", &text);
    assert!(
        written.contains("<ipRelaxationPolicyType>Enforce_RelaxRefresh</ipRelaxationPolicyType>")
    );
    assert!(written.contains("<refreshTokenValidityUnit>Hours</refreshTokenValidityUnit>"));
    assert!(
        !written.contains("permittedUsersPolicyType"),
        "bad values are left out"
    );
}

#[test]
fn model_enums_match_the_schema_tables() {
    fn check<T: ModelEnum>() {
        let ours: Vec<&str> = T::ALL.iter().map(|v| v.as_str()).collect();
        let wsdl: Vec<&str> = T::schema().values.iter().map(|v| v.name).collect();
        assert_eq!(ours, wsdl, "{}", T::schema().name);
        for v in T::ALL {
            assert_eq!(T::parse(v.as_str()), Some(*v));
        }
    }
    check::<DistributionState>();
    check::<PermittedUsers>();
    check::<RefreshTokenPolicyType>();
    check::<RefreshTokenUnit>();
    check::<IpRelaxation>();
    check::<SessionLevel>();
    check::<PolicyAction>();
    check::<JwtSessionTimeoutType>();
    check::<StartPage>();
    check::<NameIdFormat>();
    check::<SamlSigningAlgorithm>();
    check::<SamlEncryptionType>();
    check::<SamlBinding>();
    check::<SamlSubjectType>();
}

#[test]
fn values_are_read_leniently() {
    let text = doc(
        "ExtlClntAppGlobalOauthSettings",
        "<externalClientApplication>  a  </externalClientApplication>
         <isPkceRequired>TRUE</isPkceRequired>
         <isDeviceFlowEnabled>1</isDeviceFlowEnabled>
         <isIntrospectAllTokens> 0 </isIntrospectAllTokens>
         <isConsumerSecretOptional>yes</isConsumerSecretOptional>
         <idTokenConfig><idTokenValidityInMinutes>ten</idTokenValidityInMinutes></idTokenConfig>
         <callbackUrl>
            https://a.example.com/cb

            http://localhost:1717/OauthRedirect
         </callbackUrl>",
    );
    let (model, written) = round_trip(MetadataType::GlobalOauthSettings, "a", &text);
    let Component::GlobalOauthSettings(g) = model else {
        panic!()
    };
    assert_eq!(g.app, "a");
    assert_eq!(g.is_pkce_required, None, "booleans are case-sensitive");
    assert!(g.pkce_required(), "so the default applies");
    assert_eq!(g.is_device_flow_enabled, Some(true));
    assert_eq!(g.is_introspect_all_tokens, Some(false));
    assert_eq!(g.is_consumer_secret_optional, None);
    assert_eq!(g.id_token_validity_minutes(), 2);
    assert_eq!(
        g.callback_urls(),
        [
            "https://a.example.com/cb",
            "http://localhost:1717/OauthRedirect"
        ]
    );
    assert!(written.contains("<isDeviceFlowEnabled>true</isDeviceFlowEnabled>"));
    assert!(written.contains("<isIntrospectAllTokens>false</isIntrospectAllTokens>"));
    assert!(written.contains("<idTokenConfig/>"));
}

/// The int fields are xsd:int: a value beyond 32 bits is left out of the model, as any other
/// value that does not parse (the validator reports it as ECA0206).
#[test]
fn ints_beyond_32_bits_are_left_out() {
    let text = doc(
        "ExtlClntAppOauthSettings",
        "<assetTokenValidity>2147483648</assetTokenValidity>
         <externalClientApplication>a</externalClientApplication>",
    );
    let Component::OauthSettings(o) = read(MetadataType::OauthSettings, "a_oauth", &text) else {
        panic!()
    };
    assert_eq!(o.asset_token_validity, None);
    let text = text.replace("2147483648", "-2147483648");
    let Component::OauthSettings(o) = read(MetadataType::OauthSettings, "a_oauth", &text) else {
        panic!()
    };
    assert_eq!(o.asset_token_validity, Some(-2_147_483_648));
}

#[test]
fn building_a_model_never_fails() {
    let odd = [
        String::from("<X/>"),
        doc(
            "Whatever",
            "<label><nested>1</nested></label><customAttributes>text</customAttributes>",
        ),
        doc(
            "Whatever",
            "<trustedIpRanges/><trustedIpRanges><startIpAddress>::1</startIpAddress></trustedIpRanges>",
        ),
        doc(
            "Whatever",
            "<label>one</label><label>two</label><assetTokenValidity>99999999999999999999</assetTokenValidity>",
        ),
        doc(
            "Whatever",
            "<commaSeparatedOauthScopes>, ,</commaSeparatedOauthScopes><isEnabled/>",
        ),
    ];
    for text in &odd {
        for ty in MetadataType::ALL {
            let (model, _) = round_trip(*ty, "odd", text);
            assert_eq!(model.ty(), *ty);
        }
    }
}

#[test]
fn scopes_are_read_and_written_as_salesforce_does() {
    let text = doc(
        "ExtlClntAppOauthSettings",
        "<commaSeparatedOauthScopes>Api,RefreshToken ,  Bogus, api,MCP</commaSeparatedOauthScopes>
         <commaSeparatedCustomScopes>orders.read, orders.write</commaSeparatedCustomScopes>
         <externalClientApplication>a</externalClientApplication>",
    );
    let (model, written) = round_trip(MetadataType::OauthSettings, "a", &text);
    let Component::OauthSettings(s) = model else {
        panic!()
    };
    assert_eq!(
        s.scopes,
        [OauthScope::Api, OauthScope::RefreshToken, OauthScope::Mcp],
        "unknown tokens are left out; tokens are case-sensitive"
    );
    assert_eq!(s.custom_scope_names(), ["orders.read", "orders.write"]);
    assert!(
        written.contains(
            "<commaSeparatedOauthScopes>Api, RefreshToken, MCP</commaSeparatedOauthScopes>"
        )
    );
}

#[test]
fn scope_table() {
    assert_eq!(
        OauthScope::parse_list(" Api,, Web ,Nope"),
        [
            ("Api".to_owned(), Some(OauthScope::Api)),
            (String::new(), None),
            ("Web".to_owned(), Some(OauthScope::Web)),
            ("Nope".to_owned(), None),
        ]
    );
    assert!(OauthScope::parse_list("  ").is_empty());
    for (token, wire) in [
        ("Basic", "id"),
        ("OpenID", "openid"),
        ("RefreshToken", "refresh_token"),
        ("OfflineAccess", "offline_access"),
        ("CustomApplications", "visualforce"),
        ("Chatter", "chatter_api"),
        ("CDP", "cdp_api"),
        ("CDPIdentityResolution", "cdp_identityresolution_api"),
        ("SFApiPlatform", "sfap_api"),
        ("EinsteinGPT", "einstein_gpt_api"),
        ("MCP", "mcp_api"),
        ("UserRegistration", "user_registration_api"),
    ] {
        let scope = OauthScope::from_token(token).unwrap();
        assert_eq!(scope.wire(), wire);
        assert_eq!(OauthScope::from_wire(wire), Some(scope));
        assert_eq!(scope.to_string(), token);
    }
    assert_eq!(OauthScope::from_token("api"), None);
    assert_eq!(OauthScope::from_wire("Api"), None);
    assert_eq!(OauthScope::ALL.len(), 36);
    for (i, a) in OauthScope::ALL.iter().enumerate() {
        assert!(!a.meaning().is_empty());
        for b in &OauthScope::ALL[i + 1..] {
            assert_ne!(a.token(), b.token());
            assert_ne!(a.wire(), b.wire());
        }
    }
    assert_eq!(
        OauthScope::join(&[OauthScope::Api, OauthScope::Web]),
        "Api, Web"
    );
}

#[test]
fn comma_separated_lists_are_split_and_trimmed() {
    let p = OauthPolicies {
        comma_separated_permission_set: Some(" A , B,,C ".into()),
        comma_separated_profile: Some("System Administrator, Standard User".into()),
        comma_separated_custom_scopes: Some(String::new()),
        ..OauthPolicies::default()
    };
    assert_eq!(p.permission_sets(), ["A", "B", "C"]);
    assert_eq!(p.profiles(), ["System Administrator", "Standard User"]);
    assert!(p.custom_scopes().is_empty());
    let s = SamlPolicies {
        comma_separated_profile: Some("P1,P2".into()),
        ..SamlPolicies::default()
    };
    assert_eq!(s.profiles(), ["P1", "P2"]);
    assert!(s.permission_sets().is_empty());
}

#[test]
fn every_type_builds_the_matching_variant() {
    for ty in MetadataType::ALL {
        let text = doc(
            ty.name(),
            "<externalClientApplication>app</externalClientApplication><label>L</label>",
        );
        let model = read(*ty, "n", &text);
        assert_eq!(model.ty(), *ty);
        assert_eq!(model.full_name(), "n");
        assert_eq!(model.to_element().name, ty.name());
        match ty {
            MetadataType::ExternalClientApplication => {
                assert_eq!((model.app(), model.label()), (None, Some("L")));
                assert_eq!(
                    model.extra().len(),
                    1,
                    "externalClientApplication is unknown here"
                );
            }
            MetadataType::OrgSettings => {
                assert_eq!((model.app(), model.label()), (None, None));
                assert_eq!(model.extra().len(), 2);
            }
            _ => {
                assert_eq!(
                    (model.app(), model.label()),
                    (Some("app"), Some("L")),
                    "{ty}"
                );
                assert!(model.extra().is_empty(), "{ty}: {:?}", model.extra());
            }
        }
    }
}
