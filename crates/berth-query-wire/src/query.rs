//! The runtime behind the generated Query shapes: reading form parameters into shapes, with
//! the model's checks (required members, enum values, integer ranges), and writing shapes as
//! XML.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::str::FromStr;

/// Why a request could not become its input shape. `message` follows AWS's validation wording
/// and names the parameter at fault by its wire key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeError {
    pub kind: DecodeErrorKind,
    pub message: String,
}

/// What was wrong, for services whose models give the two cases codes of their own
/// (CloudWatch's `MissingParameter` and `InvalidParameterValue`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DecodeErrorKind {
    /// A required member was not sent.
    Missing,
    /// A member was sent with a value its shape does not allow.
    Invalid,
}

impl DecodeError {
    pub fn missing(key: &str) -> Self {
        Self::constraint(DecodeErrorKind::Missing, "null", key, "Member must not be null")
    }

    /// `value` at `key` is not allowed: `constraint` says what is.
    pub fn invalid(value: &str, key: &str, constraint: &str) -> Self {
        Self::constraint(DecodeErrorKind::Invalid, value, key, constraint)
    }

    fn constraint(kind: DecodeErrorKind, value: &str, key: &str, constraint: &str) -> Self {
        DecodeError {
            kind,
            message: format!(
                "1 validation error detected: Value '{value}' at '{key}' failed to satisfy constraint: {constraint}"
            ),
        }
    }
}

/// The form parameters of one request, by key.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QueryParams {
    params: BTreeMap<String, String>,
}

/// `parent.Member`, or `Member` at the top level.
pub fn child(key: &str, member: &str) -> String {
    if key.is_empty() {
        member.to_string()
    } else {
        format!("{key}.{member}")
    }
}

impl QueryParams {
    /// Parses an `application/x-www-form-urlencoded` body (and, for GET, a query string).
    /// A key given twice keeps its first value.
    pub fn parse(body: &[u8]) -> Self {
        let mut params = BTreeMap::new();
        for (key, value) in form_urlencoded::parse(body) {
            params.entry(key.into_owned()).or_insert_with(|| value.into_owned());
        }
        QueryParams { params }
    }

    pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        QueryParams { params: pairs.into_iter().map(|(key, value)| (key.to_string(), value.to_string())).collect() }
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        self.params.get(key).map(String::as_str)
    }

    /// Whether `key` itself or any key below it (`key.…`) was sent.
    pub fn has_under(&self, key: &str) -> bool {
        if self.params.contains_key(key) {
            return true;
        }
        let prefix = format!("{key}.");
        self.params.range(prefix.clone()..).next().is_some_and(|(candidate, _)| candidate.starts_with(&prefix))
    }

    pub fn string(&self, key: &str) -> Result<Option<String>, DecodeError> {
        Ok(self.get(key).map(str::to_string))
    }

    pub fn boolean(&self, key: &str) -> Result<Option<bool>, DecodeError> {
        match self.get(key) {
            None => Ok(None),
            Some(value) if value.eq_ignore_ascii_case("true") => Ok(Some(true)),
            Some(value) if value.eq_ignore_ascii_case("false") => Ok(Some(false)),
            Some(value) => Err(DecodeError::invalid(value, key, "Member must be a boolean")),
        }
    }

    pub fn double(&self, key: &str) -> Result<Option<f64>, DecodeError> {
        match self.get(key) {
            None => Ok(None),
            Some(value) => match value.parse::<f64>() {
                Ok(number) if number.is_finite() => Ok(Some(number)),
                _ => Err(DecodeError::invalid(value, key, "Member must be a number")),
            },
        }
    }

    pub fn timestamp(&self, key: &str) -> Result<Option<Timestamp>, DecodeError> {
        match self.get(key) {
            None => Ok(None),
            Some(value) => Timestamp::parse(value)
                .map(Some)
                .ok_or_else(|| DecodeError::invalid(value, key, "Member must be an ISO 8601 timestamp")),
        }
    }

    pub fn integer<T: FromStr + Into<i64> + Copy>(
        &self,
        key: &str,
        min: Option<i64>,
        max: Option<i64>,
    ) -> Result<Option<T>, DecodeError> {
        let Some(value) = self.get(key) else { return Ok(None) };
        let number: T = value.parse().map_err(|_| DecodeError::invalid(value, key, "Member must be an integer"))?;
        let wide: i64 = number.into();
        if let Some(min) = min.filter(|min| wide < *min) {
            return Err(DecodeError::invalid(
                value,
                key,
                &format!("Member must have value greater than or equal to {min}"),
            ));
        }
        if let Some(max) = max.filter(|max| wide > *max) {
            return Err(DecodeError::invalid(
                value,
                key,
                &format!("Member must have value less than or equal to {max}"),
            ));
        }
        Ok(Some(number))
    }

    pub fn enumeration<T>(
        &self,
        key: &str,
        parse: fn(&str) -> Option<T>,
        values: &[&str],
    ) -> Result<Option<T>, DecodeError> {
        let Some(value) = self.get(key) else { return Ok(None) };
        match parse(value) {
            Some(parsed) => Ok(Some(parsed)),
            None => Err(DecodeError::invalid(
                value,
                key,
                &format!("Member must satisfy enum value set: [{}]", values.join(", ")),
            )),
        }
    }

    /// A list: `key.member.1`, `key.member.2`, … (or `key.1`, … when flattened), read until the
    /// first index that was not sent. `key=` alone is the empty list.
    pub fn list<T>(
        &self,
        key: &str,
        flattened: bool,
        element: impl Fn(&QueryParams, &str) -> Result<Option<T>, DecodeError>,
    ) -> Result<Option<Vec<T>>, DecodeError> {
        let base = if flattened { key.to_string() } else { format!("{key}.member") };
        let mut items = Vec::new();
        for index in 1.. {
            let element_key = format!("{base}.{index}");
            if !self.has_under(&element_key) {
                break;
            }
            match element(self, &element_key)? {
                Some(item) => items.push(item),
                None => break,
            }
        }
        if items.is_empty() && self.get(key).is_none() {
            return Ok(None);
        }
        Ok(Some(items))
    }

    /// A map: `key.entry.N.key` and `key.entry.N.value`.
    pub fn map<T>(
        &self,
        key: &str,
        value: impl Fn(&QueryParams, &str) -> Result<Option<T>, DecodeError>,
    ) -> Result<Option<BTreeMap<String, T>>, DecodeError> {
        let mut entries = BTreeMap::new();
        for index in 1.. {
            let entry = format!("{key}.entry.{index}");
            if !self.has_under(&entry) {
                break;
            }
            let name =
                self.get(&format!("{entry}.key")).ok_or_else(|| DecodeError::missing(&format!("{entry}.key")))?;
            let item = value(self, &format!("{entry}.value"))?
                .ok_or_else(|| DecodeError::missing(&format!("{entry}.value")))?;
            entries.insert(name.to_string(), item);
        }
        if entries.is_empty() && self.get(key).is_none() {
            return Ok(None);
        }
        Ok(Some(entries))
    }
}

/// Implemented by every generated shape: read the value at `key` (`""` for the whole input),
/// `None` when nothing was sent for it.
pub trait FromQuery: Sized {
    fn from_query(params: &QueryParams, key: &str) -> Result<Option<Self>, DecodeError>;
}

/// Decodes a whole request into its input shape.
pub fn decode_input<T: FromQuery + Default>(params: &QueryParams) -> Result<T, DecodeError> {
    Ok(T::from_query(params, "")?.unwrap_or_default())
}

/// An instant as AWS's XML answers write it: ISO 8601 in UTC with milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Timestamp {
    pub unix_millis: i64,
}

impl Timestamp {
    pub fn from_unix_millis(unix_millis: i64) -> Self {
        Timestamp { unix_millis }
    }

    /// `YYYY-MM-DDTHH:MM:SS[.fff]Z` (or epoch seconds, which botocore also sends).
    pub fn parse(text: &str) -> Option<Self> {
        if let Ok(seconds) = text.parse::<f64>() {
            // Rounded: 1796117655.123 × 1000 is 1796117655122.9998 in binary floating point.
            return seconds.is_finite().then(|| Timestamp { unix_millis: (seconds * 1000.0).round() as i64 });
        }
        let text = text.strip_suffix('Z')?;
        let (date, time) = text.split_once('T')?;
        let mut date_parts = date.splitn(3, '-').map(|part| part.parse::<i64>().ok());
        let (year, month, day) = (date_parts.next()??, date_parts.next()??, date_parts.next()??);
        let (clock, fraction) = time.split_once('.').unwrap_or((time, "0"));
        let mut clock_parts = clock.splitn(3, ':').map(|part| part.parse::<i64>().ok());
        let (hour, minute, second) = (clock_parts.next()??, clock_parts.next()??, clock_parts.next()??);
        let millis: i64 = format!("{fraction:0<3}").get(..3)?.parse().ok()?;
        let valid = (1..=12).contains(&month) && (1..=31).contains(&day) && hour < 24 && minute < 60 && second < 61;
        valid.then(|| Timestamp {
            unix_millis: ((days_from_civil(year, month, day) * 24 + hour) * 60 + minute) * 60_000
                + second * 1000
                + millis,
        })
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let day_of_year = (153 * ((month + 9) % 12) + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// The inverse of [`days_from_civil`].
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let days = days + 719_468;
    let era = days.div_euclid(146_097);
    let day_of_era = days - era * 146_097;
    let year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_index + 2) / 5 + 1;
    let month = if month_index < 10 { month_index + 3 } else { month_index - 9 };
    (year_of_era + era * 400 + i64::from(month <= 2), month, day)
}

impl std::fmt::Display for Timestamp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let days = self.unix_millis.div_euclid(86_400_000);
        let in_day = self.unix_millis.rem_euclid(86_400_000);
        let (year, month, day) = civil_from_days(days);
        let (hour, minute) = (in_day / 3_600_000, in_day / 60_000 % 60);
        let (second, millis) = (in_day / 1000 % 60, in_day % 1000);
        write!(f, "{year:04}-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}.{millis:03}Z")
    }
}

/// An XML document being written; text is escaped as it goes in.
#[derive(Debug, Default)]
pub struct XmlWriter {
    out: String,
}

impl XmlWriter {
    pub fn open(&mut self, name: &str) {
        self.out.push('<');
        self.out.push_str(name);
        self.out.push('>');
    }

    pub fn close(&mut self, name: &str) {
        self.out.push_str("</");
        self.out.push_str(name);
        self.out.push('>');
    }

    /// Character data, escaped.
    pub fn text(&mut self, text: &str) {
        for character in text.chars() {
            match character {
                '<' => self.out.push_str("&lt;"),
                '>' => self.out.push_str("&gt;"),
                '&' => self.out.push_str("&amp;"),
                '"' => self.out.push_str("&quot;"),
                '\'' => self.out.push_str("&apos;"),
                '\r' => self.out.push_str("&#xD;"),
                other => self.out.push(other),
            }
        }
    }

    /// `<name>value</name>`, or nothing when the member is absent.
    pub fn member<T: ToXml>(&mut self, name: &str, value: &Option<T>) {
        if let Some(value) = value {
            self.open(name);
            value.write_xml(self);
            self.close(name);
        }
    }

    pub fn into_string(self) -> String {
        self.out
    }
}

/// Implemented by every generated shape: write its content (the caller writes the element
/// around it).
pub trait ToXml {
    fn write_xml(&self, out: &mut XmlWriter);
}

impl ToXml for String {
    fn write_xml(&self, out: &mut XmlWriter) {
        out.text(self)
    }
}

impl ToXml for bool {
    fn write_xml(&self, out: &mut XmlWriter) {
        out.out.push_str(if *self { "true" } else { "false" })
    }
}

macro_rules! number_to_xml {
    ($($number:ty),*) => {$(
        impl ToXml for $number {
            fn write_xml(&self, out: &mut XmlWriter) {
                let _ = write!(out.out, "{self}");
            }
        }
    )*};
}
number_to_xml!(i32, i64, f64);

impl ToXml for Timestamp {
    fn write_xml(&self, out: &mut XmlWriter) {
        let _ = write!(out.out, "{self}");
    }
}

impl<T: ToXml> ToXml for Vec<T> {
    fn write_xml(&self, out: &mut XmlWriter) {
        for item in self {
            out.open("member");
            item.write_xml(out);
            out.close("member");
        }
    }
}

impl<T: ToXml> ToXml for BTreeMap<String, T> {
    fn write_xml(&self, out: &mut XmlWriter) {
        for (key, value) in self {
            out.open("entry");
            out.open("key");
            out.text(key);
            out.close("key");
            out.open("value");
            value.write_xml(out);
            out.close("value");
            out.close("entry");
        }
    }
}

/// A successful answer: `<{Operation}Response xmlns=…><{wrapper}>…</{wrapper}>
/// <ResponseMetadata><RequestId>…</RequestId></ResponseMetadata></{Operation}Response>`.
pub fn response(
    operation: &str,
    namespace: &str,
    wrapper: Option<&str>,
    result: &(impl ToXml + ?Sized),
    request_id: &str,
) -> String {
    let mut out = XmlWriter::default();
    let _ = write!(out.out, "<{operation}Response xmlns=\"{namespace}\">");
    if let Some(wrapper) = wrapper {
        out.open(wrapper);
        result.write_xml(&mut out);
        out.close(wrapper);
    }
    out.open("ResponseMetadata");
    out.open("RequestId");
    out.text(request_id);
    out.close("RequestId");
    out.close("ResponseMetadata");
    let _ = write!(out.out, "</{operation}Response>");
    out.out
}

/// A failure: `<ErrorResponse xmlns=…><Error><Type>Sender|Receiver</Type><Code>…</Code>
/// <Message>…</Message></Error><RequestId>…</RequestId></ErrorResponse>`.
pub fn error_response(namespace: &str, sender_fault: bool, code: &str, message: &str, request_id: &str) -> String {
    let mut out = XmlWriter::default();
    let _ = write!(out.out, "<ErrorResponse xmlns=\"{namespace}\">");
    out.open("Error");
    out.open("Type");
    out.text(if sender_fault { "Sender" } else { "Receiver" });
    out.close("Type");
    out.open("Code");
    out.text(code);
    out.close("Code");
    out.open("Message");
    out.text(message);
    out.close("Message");
    out.close("Error");
    out.open("RequestId");
    out.text(request_id);
    out.close("RequestId");
    out.out.push_str("</ErrorResponse>");
    out.out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::elbv2;

    #[test]
    fn nested_lists_and_structures_decode_from_form_keys() {
        let body = b"Action=CreateListener&Version=2015-12-01&LoadBalancerArn=arn%3Alb&Protocol=HTTP&Port=80\
&DefaultActions.member.1.Type=forward&DefaultActions.member.1.ForwardConfig.TargetGroups.member.1.TargetGroupArn=tg1\
&DefaultActions.member.1.ForwardConfig.TargetGroups.member.1.Weight=3\
&DefaultActions.member.1.ForwardConfig.TargetGroups.member.2.TargetGroupArn=tg2";
        let input: elbv2::CreateListenerInput = decode_input(&QueryParams::parse(body)).unwrap();
        assert_eq!(input.load_balancer_arn.as_deref(), Some("arn:lb"));
        assert_eq!(input.protocol, Some(elbv2::ProtocolEnum::Http));
        assert_eq!(input.port, Some(80));
        let actions = input.default_actions.unwrap();
        let groups = actions[0].forward_config.as_ref().unwrap().target_groups.as_ref().unwrap();
        assert_eq!(groups.len(), 2);
        assert_eq!(groups[0].weight, Some(3));
        assert_eq!(groups[1].target_group_arn.as_deref(), Some("tg2"));
    }

    #[test]
    fn model_checks_name_the_parameter() {
        let missing =
            decode_input::<elbv2::CreateListenerInput>(&QueryParams::parse(b"Action=CreateListener")).unwrap_err();
        assert!(missing.message.contains("at 'LoadBalancerArn'"), "{}", missing.message);
        let nested = b"LoadBalancerArn=a&DefaultActions.member.1.TargetGroupArn=x";
        let error = decode_input::<elbv2::CreateListenerInput>(&QueryParams::parse(nested)).unwrap_err();
        assert!(error.message.contains("'DefaultActions.member.1.Type'"), "{}", error.message);
        let port = decode_input::<elbv2::CreateListenerInput>(&QueryParams::parse(
            b"LoadBalancerArn=a&DefaultActions=&Port=0",
        ))
        .unwrap_err();
        assert!(port.message.contains("greater than or equal to 1"), "{}", port.message);
        let protocol = decode_input::<elbv2::CreateListenerInput>(&QueryParams::parse(
            b"LoadBalancerArn=a&DefaultActions=&Protocol=FTP",
        ))
        .unwrap_err();
        assert!(protocol.message.contains("Value 'FTP' at 'Protocol'"), "{}", protocol.message);
        assert!(protocol.message.contains("HTTP, HTTPS"), "{}", protocol.message);
    }

    #[test]
    fn empty_list_is_sent_as_a_bare_key() {
        let input: elbv2::DescribeLoadBalancersInput = decode_input(&QueryParams::parse(b"Names=")).unwrap();
        assert_eq!(input.names, Some(vec![]));
        let input: elbv2::DescribeLoadBalancersInput = decode_input(&QueryParams::parse(b"")).unwrap();
        assert_eq!(input.names, None);
    }

    #[test]
    fn answers_are_wrapped_and_escaped() {
        let output = elbv2::DescribeTagsOutput {
            tag_descriptions: Some(vec![elbv2::TagDescription {
                resource_arn: Some("arn".into()),
                tags: Some(vec![elbv2::Tag { key: Some("a<b".into()), value: Some("c&d".into()) }]),
            }]),
        };
        let xml =
            response("DescribeTags", elbv2::XML_NAMESPACE, elbv2::result_wrapper("DescribeTags"), &output, "req-1");
        assert_eq!(
            xml,
            "<DescribeTagsResponse xmlns=\"http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/\"><DescribeTagsResult>\
<TagDescriptions><member><ResourceArn>arn</ResourceArn><Tags><member><Key>a&lt;b</Key><Value>c&amp;d</Value></member></Tags>\
</member></TagDescriptions></DescribeTagsResult><ResponseMetadata><RequestId>req-1</RequestId></ResponseMetadata>\
</DescribeTagsResponse>"
        );
    }

    #[test]
    fn timestamps_round_trip_through_iso_8601() {
        let instant = Timestamp::from_unix_millis(1_796_117_655_123);
        assert_eq!(instant.to_string(), "2026-12-01T09:34:15.123Z");
        assert_eq!(Timestamp::parse("2026-12-01T09:34:15.123Z"), Some(instant));
        assert_eq!(Timestamp::parse("1970-01-01T00:00:00Z"), Some(Timestamp::from_unix_millis(0)));
        assert_eq!(Timestamp::parse("2026-13-01T00:00:00Z"), None);
        assert_eq!(Timestamp::parse("1796117655.123"), Some(instant), "epoch seconds round to the millisecond");
        assert_eq!(Timestamp::parse("inf"), None);
    }

    #[test]
    fn decode_errors_say_whether_a_member_was_missing_or_wrong() {
        let missing =
            decode_input::<elbv2::CreateListenerInput>(&QueryParams::parse(b"Action=CreateListener")).unwrap_err();
        assert_eq!(missing.kind, DecodeErrorKind::Missing);
        let wrong = decode_input::<elbv2::CreateListenerInput>(&QueryParams::parse(
            b"LoadBalancerArn=a&DefaultActions=&Port=http",
        ))
        .unwrap_err();
        assert_eq!(wrong.kind, DecodeErrorKind::Invalid);
    }

    #[test]
    fn error_codes_come_from_the_model() {
        assert_eq!(elbv2::ErrorCode::LoadBalancerNotFoundException.code(), "LoadBalancerNotFound");
        assert_eq!(elbv2::ErrorCode::DuplicateLoadBalancerNameException.code(), "DuplicateLoadBalancerName");
        assert_eq!(elbv2::ErrorCode::LoadBalancerNotFoundException.http_status(), 400);
    }
}
