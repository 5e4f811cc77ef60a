"""Library error messages in the UI language.

The library raises GovernanceError with English messages (the CLI prints them as they are). The UI
shows them through `translate(message, lang)`: for "zh" the first catalogue template that matches the
whole message gives its Chinese text, with the values the message carries. A template is the English
message as its f-string builds it, each expression a named placeholder (`{name}`, or `{name!r}` where
the message quotes it with repr); literal braces are doubled. A value whose placeholder is named after
a coded column (`field`, `channel`, `status`, … or their plurals for comma-separated lists) shows its
Chinese label; a value that is a part of the message in English (`where`, `problem`, …) is
translated in turn.
A message no template matches is shown as it is.

tests/unit/test_error_texts.py checks that every raise site of the library has a template here.
"""
from __future__ import annotations

import ast
import re
from string import Formatter

from governance.i18n import code_text, column_label, value_label
from governance.standardize.normalizers import REASONS
from governance.store.schema import channel_label

_RULE = "A custom rule is one expression over this record's columns: "
_RULE_ZH = "自定义规则只能是针对本条记录各列的一个表达式："
_RELOAD = "Check the file's quotes and line breaks, or save it again as CSV."
_RELOAD_ZH = "请检查文件中的引号和换行，或重新另存为 CSV。"

# English template -> Chinese template
CATALOGUE: dict[str, str] = {
    # access
    "The secret audit_key is not in {path}: run `python -m governance init` (or start the app) once; it adds the "
    "key and keeps the other secrets.":
        "密钥 audit_key 不在 {path} 中：请运行一次 `python -m governance init`（或启动应用），它会添加该密钥并保留其他密钥。",
    "The password must have at least {min_length} characters.": "密码至少需要 {min_length} 个字符。",
    "The password must be at most {max_bytes} bytes long.": "密码不能超过 {max_bytes} 个字节（一个汉字占 3 个字节）。",
    "No user named {username!r}.": "没有名为“{username}”的用户。",
    "Unknown role {role!r}; choose one of {roles}.": "未知角色“{role}”；请从以下角色中选择：{roles}。",
    "A username is 2–32 characters: lower-case letters, digits, '.', '_' or '-'.":
        "用户名为 2–32 个字符，只能包含小写字母、数字、“.”、“_”或“-”。",
    "This is the last active administrator; appoint another admin first.": "这是最后一位在用的管理员，请先任命另一位管理员。",
    "This needs the permission {permission!r}.": "此操作需要“{permission}”权限。",
    "The user {username!r} already exists.": "用户“{username}”已存在。",
    "You cannot disable your own account.": "不能停用自己的账号。",
    "A keyed hash needs the HMAC key (hmac_key in the secrets).": "带密钥的哈希需要 HMAC 密钥（密钥文件中的 hmac_key）。",
    "Unknown sensitivity class {sensitivity_class!r}.": "未知的敏感类别“{sensitivity_class}”。",
    "Unknown role {role!r}.": "未知角色“{role}”。",
    "Unknown masking method {method!r}; use one of {methods}.": "未知的脱敏方式“{method}”；请使用以下方式之一：{methods}。",
    "Characters kept must be between 0 and 32.": "保留的字符数必须在 0 到 32 之间。",
    # exports
    "Unknown dataset {name!r}; choose one of {datasets}.": "未知数据集“{name}”；请从以下数据集中选择：{datasets}。",
    "Unknown format {format!r}; choose one of {formats}.": "未知格式“{format}”；请从以下格式中选择：{formats}。",
    "Unknown language {lang!r}; choose one of {langs}.": "未知语言“{lang}”；请从以下语言中选择：{langs}。",
    "Unknown consent purpose {purpose!r}.": "未知的同意目的“{purpose}”。",
    "There are no golden records yet: resolve OneIDs first (python -m governance resolve).":
        "还没有黄金记录：请先运行 OneID 识别（`python -m governance resolve`）。",
    "{total} rows do not fit in one XLSX sheet ({max_rows}); use CSV or Parquet.":
        "{total} 行超出了一个 XLSX 工作表的容量（{max_rows} 行），请改用 CSV 或 Parquet。",
    "Unknown fields for {dataset}: {fields}.": "数据集 {dataset} 没有这些字段：{fields}。",
    "An unmasked export needs a role with the permission 'pii.unmasked'.": "不脱敏导出需要拥有“pii.unmasked”权限的角色。",
    "An unmasked export needs a stated purpose.": "不脱敏导出需要写明用途。",
    # golden records
    "No OneID {oneid}.": "没有 OneID {oneid}。",
    "Unknown field {field!r}.": "未知字段“{field}”。",
    "The override value is empty.": "修正值为空。",
    "{value!r} is not a valid {field}: {why}.": "“{value}”不是有效的{field}：{why}。",
    "An override needs a reason.": "修正需要填写原因。",
    "Removing an override needs a reason.": "撤销修正需要填写原因。",
    "No active override {override_id}.": "没有生效中的修正 #{override_id}。",
    # survivorship rules (ValueError turned into GovernanceError by survivorship.set_rule)
    "unknown field {field!r}": "未知字段“{field}”",
    "unknown survivorship rule kind {kind!r}": "未知的取值规则类型“{kind}”",
    "bad channel priority {priority}": "渠道优先级无效：{priority}",
    # OneID
    "The band width must divide 1 (0.01, 0.02, 0.05, 0.1 …), not {width}.":
        "概率区间宽度必须能整除 1（0.01、0.02、0.05、0.1 …），而不是 {width}。",
    "The precision target ({target}) and floor ({floor}) must satisfy 0 < floor <= target <= 1.":
        "精确率目标（{target}）和下限（{floor}）必须满足 0 < 下限 ≤ 目标 ≤ 1。",
    "A band needs at least one label to count, not {min_labels}.":
        "一个概率区间至少需要 1 个标签才能计入，而不是 {min_labels}。",
    "The review band start must be a probability between 0 and 1 (above 0), not {threshold}.":
        "进入审核队列阈值必须是大于 0、不超过 1 的概率，而不是 {threshold}。",
    "The saved OneID model must be a JSON object (a Splink settings dictionary).":
        "已保存的 OneID 模型必须是一个 JSON 对象（Splink 设置字典）。",
    "The OneID model could not be trained or scored on these records: {error}: {detail}":
        "无法用这些记录训练 OneID 模型或为其打分：{error}: {detail}",
    "The saved OneID model is not valid JSON: {detail}": "已保存的 OneID 模型不是有效的 JSON：{detail}",
    "The saved OneID model cannot be used: {detail}": "已保存的 OneID 模型无法使用：{detail}",
    "The saved OneID model cannot be used: its comparisons are not Splink comparisons.":
        "已保存的 OneID 模型无法使用：其中的比较项不是 Splink 比较项。",
    "The saved OneID model names a term-frequency column that is not a plain column name.":
        "已保存的 OneID 模型指定的词频列不是普通的列名。",
    "The saved OneID model's blocking rule is not a condition on two records: {rule}":
        "已保存的 OneID 模型的分块规则不是针对两条记录的条件：{rule}",
    "The new records could not be prepared for the OneID model: {detail}": "无法为 OneID 模型准备新记录：{detail}",
    "The OneID model could not score the new records: {error}: {detail}": "OneID 模型无法为新记录打分：{error}: {detail}",
    # the Spark scoring engine
    "Unknown engine {name!r}: choose duckdb or spark.": "未知的计算引擎“{name}”：请选择 duckdb 或 spark。",
    "--spark-master, --spark-conf and --spark-scratch apply only with --engine spark.":
        "--spark-master、--spark-conf 和 --spark-scratch 只能与 --engine spark 一起使用。",
    "A Spark setting is key=value (for example spark.driver.memory=4g), not {item!r}.":
        "Spark 设置须写成 key=value（例如 spark.driver.memory=4g），而不是“{item}”。",
    "Spark Connect (sc://) is not supported: give a spark:// master or local[N].":
        "不支持 Spark Connect（sc://）：请指定 spark:// 主节点或 local[N]。",
    "Spark could not start at {master}: {detail}": "Spark 无法在 {master} 启动：{detail}",
    "Spark is not installed: pip install -r requirements-spark.txt": "未安装 Spark：请运行 pip install -r requirements-spark.txt",
    "Spark needs Java 17 or later and none was found: install openjdk-17-jre-headless or set JAVA_HOME.":
        "Spark 需要 Java 17 或更高版本，但未找到 Java：请安装 openjdk-17-jre-headless 或设置 JAVA_HOME。",
    "Spark needs Java 17 or later, not Java {version} ({java}): install openjdk-17-jre-headless or set JAVA_HOME.":
        "Spark 需要 Java 17 或更高版本，而不是 Java {version}（{java}）：请安装 openjdk-17-jre-headless 或设置 JAVA_HOME。",
    "The thresholds must satisfy 0 < review band start ({review_low}) <= auto-accept ({auto_accept}) <= 1.":
        "阈值必须满足 0 < 进入审核队列阈值（{review_low}）≤ 自动合并阈值（{auto_accept}）≤ 1。",
    "{actor} already decided this pair ({decision}).": "{actor} 已对这一对记录作出决定（{decision}）。",
    "The pair's records are no longer in the store.": "这一对记录已不在数据库中。",
    "A record cannot be paired with itself.": "一条记录不能与自身配对。",
    "No active decision {decision_id}.": "没有生效中的决定 #{decision_id}。",
    "There is no record {batch}:{row}.": "没有记录 {batch}:{row}。",
    "Pick two different OneIDs.": "请选择两个不同的 OneID。",
    "The record is not part of {oneid}.": "该记录不属于 {oneid}。",
    "{oneid} has no other record to split from.": "{oneid} 没有其他记录可以拆分出去。",
    "A constraint keeps these customers apart (a rejected pair or two different resident IDs); the merge was "
    "not applied.": "有约束条件不允许合并这些客户（曾被拒绝的配对，或两个不同的身份证号），合并未执行。",
    # consent, requests, retention, suppression
    "Unknown consent purpose {purpose!r}; choose one of {purposes}.": "未知的同意目的“{purpose}”；请从以下目的中选择：{purposes}。",
    "Unknown consent state {state!r}.": "未知的同意状态“{state}”。",
    "Unknown consent method {method!r}; choose one of {methods}.": "未知的同意方式“{method}”；请从以下方式中选择：{methods}。",
    "A consent record needs a OneID.": "同意记录需要指定 OneID。",
    "No person with OneID {oneid}.": "没有 OneID 为 {oneid} 的客户。",
    "No request {request_id}.": "没有编号为 #{request_id} 的请求。",
    "Unknown request type {request_type!r}; choose one of {request_types}.":
        "未知的请求类型“{request_type}”；请从以下类型中选择：{request_types}。",
    "A request needs the requester's name.": "请求需要填写申请人姓名。",
    "Say how the requester's identity was checked.": "请说明如何核验了申请人的身份。",
    "Write the response sent to the requester.": "请填写发给申请人的答复。",
    "A rejection needs the reason given to the requester.": "拒绝请求需要填写告知申请人的理由。",
    "Request {request_id} is of type {request_type}; this needs a {request_type2} request.":
        "请求 #{request_id} 的类型是“{request_type}”，此操作需要“{request_type2}”类请求。",
    "Request {request_id} is {status}: verify the requester's identity first.":
        "请求 #{request_id} 的状态是“{status}”：请先核验申请人的身份。",
    "Request {request_id} has no OneID yet: look the person up first.": "请求 #{request_id} 还没有关联 OneID：请先查找此人。",
    "Name the purpose whose consent is withdrawn.": "请指明撤回的是哪个目的的同意。",
    "{variable} must be comma-separated dates like 2026-10-01.": "{variable} 必须是以逗号分隔的日期，例如 2026-10-01。",
    "Unknown OneID: {oneids}.": "未知的 OneID：{oneids}。",
    "Request {request_id} is {status}; this needs one of: {statuses}.":
        "请求 #{request_id} 的状态是“{status}”；此操作要求状态为以下之一：{statuses}。",
    "Request {request_id} is closed.": "请求 #{request_id} 已关闭。",
    "{oneid} is not a OneID of request {request_id}.": "{oneid} 不是请求 #{request_id} 涉及的 OneID。",
    "A retention scope is one of {scopes}.": "保存期限的范围只能是以下之一：{scopes}。",
    "Name the source or purpose the period applies to.": "请指明该期限适用的数据源或目的。",
    "A retention period is a number of days from 1 to {max_days}.": "保存期限必须是 1 到 {max_days} 之间的天数。",
    "No consent purpose named {target!r}; the purposes are {all_purposes}.":
        "没有名为“{target}”的同意目的；可选的目的有：{all_purposes}。",
    "No retention policy for {scope} {target!r}.": "没有适用于{scope}“{target}”的保存期限规则。",
    "No retention run {run_id}.": "没有编号为 #{run_id} 的保存期限清理。",
    "No source named {source!r}.": "没有名为“{source}”的数据源。",
    "The scan now finds {records} records, not the {confirmed} confirmed; scan again and confirm.":
        "现在扫描到 {records} 条记录，而不是已确认的 {confirmed} 条；请重新扫描并确认。",
    "Lifting a suppression needs a reason.": "解除抑制需要填写原因。",
    "The HMAC key (hmac_key in secrets.toml, or STEWARD_HMAC_KEY) is not the one this store's tombstones of erased "
    "people were made with, so they would no longer match. Restore the original key; nothing was changed.":
        "当前的 HMAC 密钥（secrets.toml 中的 hmac_key，或 STEWARD_HMAC_KEY）不是生成本库已删除个人的墓碑时所用的密钥，"
        "墓碑将无法再匹配。请恢复原来的密钥；未做任何更改。",
    "No tombstone {tombstone_id}.": "没有编号为 #{tombstone_id} 的墓碑。",
    "Tombstone {tombstone_id} is already lifted.": "墓碑 #{tombstone_id} 已解除抑制。",
    # quality rules
    "A custom rule may not call {name}.": "自定义规则不能调用 {name}。",
    _RULE + "the expression is empty.": _RULE_ZH + "表达式为空。",
    _RULE + "comments are not allowed.": _RULE_ZH + "不允许注释。",
    _RULE + "more than one statement is not allowed.": _RULE_ZH + "不允许多条语句。",
    _RULE + "UNION, EXCEPT and INTERSECT are not allowed.": _RULE_ZH + "不允许 UNION、EXCEPT 和 INTERSECT。",
    _RULE + "a FROM clause is not allowed.": _RULE_ZH + "不允许 FROM 子句。",
    _RULE + "WITH, WHERE, GROUP BY, ORDER BY, LIMIT and DISTINCT are not allowed.":
        _RULE_ZH + "不允许 WITH、WHERE、GROUP BY、ORDER BY、LIMIT 和 DISTINCT。",
    _RULE + "a list of expressions or an alias is not allowed.": _RULE_ZH + "不允许多个表达式或别名。",
    _RULE + "subqueries are not allowed.": _RULE_ZH + "不允许子查询。",
    _RULE + "window functions are not allowed.": _RULE_ZH + "不允许窗口函数。",
    _RULE + "* and COLUMNS(…) are not allowed.": _RULE_ZH + "不允许 * 和 COLUMNS(…)。",
    _RULE + "parameters are not allowed.": _RULE_ZH + "不允许参数。",
    _RULE + "lambdas are not allowed.": _RULE_ZH + "不允许 lambda 表达式。",
    _RULE + "aggregates are not allowed.": _RULE_ZH + "不允许聚合函数。",
    _RULE + "aggregates ({name}) are not allowed.": _RULE_ZH + "不允许聚合函数（{name}）。",  # rules._refusal
    _RULE + "table functions ({name}) are not allowed.": _RULE_ZH + "不允许表函数（{name}）。",  # rules._refusal
    "A custom rule may only name built-in types.": "自定义规则只能使用内置类型。",
    "A custom rule may read only this record's standardized columns (name, mobile, mobile_status, …), not {column}.":
        "自定义规则只能读取本条记录的标准化列（name、mobile、mobile_status …），不能读取 {column}。",
    "No rule {rule_id!r}.": "没有规则“{rule_id}”。",
    "stopped after the time limit of {seconds} s": "超过 {seconds} 秒的时间限制，已停止",
    "failed to run: {detail}": "运行失败：{detail}",
    "A rule id is 1–64 characters: a-z, 0-9, '.', '_' or '-'.": "规则编号为 1–64 个字符，只能包含 a-z、0-9、“.”、“_”或“-”。",
    "Unknown rule type {rule_type!r}.": "未知的规则类型“{rule_type}”。",
    "Unknown severity or dimension.": "未知的严重程度或质量维度。",
    "'mostly' is a share between 0 and 1.": "容忍度（需通过的比例）必须在 0 到 1 之间。",
    "Rule {rule_id}: name standard fields ({fields}, …).": "规则 {rule_id}：请指定标准字段（{fields} …）。",
    "unique_together needs two or more fields.": "组合唯一规则需要两个或更多字段。",
    "allowed_values needs a list 'values'.": "允许值规则需要一个取值列表（values）。",
    "consistency needs 'check', one of {checks}.": "一致性规则需要指定检查项（check），可选：{checks}。",
    "The expression does not parse: {detail}": "表达式无法解析：{detail}",
    "Custom rule {rule_id} {problem}.": "自定义规则 {rule_id}：{problem}。",
    "A rule failed to run: {detail}": "有规则运行失败：{detail}",
    "A custom rule may not use {what}.": "自定义规则不能使用 {what}。",
    "Invalid regular expression: {detail}": "正则表达式无效：{detail}",
    # sources: ingest and mapping
    "A source name is 1–64 characters with no control characters.": "数据源名称为 1–64 个字符，不能包含控制字符。",
    "The source {source!r} belongs to channel {channel!r}, not {channel2!r}.":
        "数据源“{source}”属于渠道“{channel}”，而不是“{channel2}”。",
    "Unknown channel {channel!r}; choose one of {channels}.": "未知渠道“{channel}”；请从以下渠道中选择：{channels}。",
    "{file_name} was already loaded into {source!r} as batch {batch}; load it again only if you mean to (force it).":
        "{file_name} 已作为批次 {batch} 载入数据源“{source}”；只有确实需要时才再次载入（强制载入）。",
    "Unknown mapping option {mapping!r}.": "未知的映射选项“{mapping}”。",
    "Unknown standard field {field!r} for column {header!r}.": "列“{header}”对应的标准字段“{field}”不存在。",
    "The field {field!r} is mapped twice: from {header!r} and {header2!r}.":
        "字段“{field}”被映射了两次：来自“{header}”和“{header2}”。",
    # sources: reading files
    "{file_name}: the file is empty.": "{file_name}：文件为空。",
    "{file_name}: the file is {size} MB, over the limit of {max_mb} MB.": "{file_name}：文件大小为 {size} MB，超过了 {max_mb} MB 的上限。",
    "{file_name}: unsupported file type {ext}; use one of {supported}.":
        "{file_name}：不支持的文件类型 {ext}；请使用以下类型之一：{supported}。",
    "{file_name}: the extension says {ext} but the content is {found}.": "{file_name}：扩展名是 {ext}，但内容是{found}。",
    "{file_name}: the file has no content besides blank space.": "{file_name}：文件中除空白外没有内容。",
    "{file_name}: {width} columns is more than the limit of {max_columns}.": "{file_name}：{width} 列超过了 {max_columns} 列的上限。",
    "{file_name}: the file has a header but no data rows.": "{file_name}：文件只有表头，没有数据行。",
    "{file_name}: no sheet named {sheet!r}; the sheets are {sheets}.": "{file_name}：没有名为“{sheet}”的工作表；现有工作表：{sheets}。",
    "{file_name}: the sheet {sheet!r} is empty.": "{file_name}：工作表“{sheet}”为空。",
    "{file_name}: the sheet {sheet!r} has a header but no data rows.": "{file_name}：工作表“{sheet}”只有表头，没有数据行。",
    "{file_name}: the workbook has no sheets.": "{file_name}：工作簿中没有工作表。",
    "{file_name}: no JSON records found.": "{file_name}：没有找到 JSON 记录。",
    "{file_name}: the Parquet file has no rows.": "{file_name}：该 Parquet 文件没有数据行。",
    "{file_name}: the first {rows} rows hold no values; the header must be within them.":
        "{file_name}：前 {rows} 行都没有值；表头必须位于这些行之内。",
    "{file_name}: cannot parse line {line}: {detail}.": "{file_name}：无法解析第 {line} 行：{detail}。",
    "{file_name}: the rows read do not start with the row {after}; nothing was loaded. " + _RELOAD:
        "{file_name}：读取到的行不是从第 {after} 行开始的，未载入任何数据。" + _RELOAD_ZH,
    "{file_name}: {n} rows were read but the file has {expected}; nothing was loaded. " + _RELOAD:
        "{file_name}：读取了 {n} 行，但文件有 {expected} 行，未载入任何数据。" + _RELOAD_ZH,
    "{file_name}: not a readable .xlsx workbook ({error}).": "{file_name}：不是可读取的 .xlsx 工作簿（{error}）。",
    "{file_name}: the workbook is password-protected; save it without a password.": "{file_name}：工作簿受密码保护，请去掉密码后另存。",
    "{file_name}: not a readable {kind} workbook ({error}).": "{file_name}：不是可读取的 {kind} 工作簿（{error}）。",
    "{file_name}: the sheet cannot be read ({error}).": "{file_name}：无法读取该工作表（{error}）。",
    "{file_name}: more than {max_columns} distinct keys.": "{file_name}：不同的键超过 {max_columns} 个。",
    "Unknown encoding {encoding!r}; choose one of {encodings}.": "未知编码“{encoding}”；请从以下编码中选择：{encodings}。",
    "{file_name}: the file ends in the middle of a {encoding} character.": "{file_name}：文件结尾处有一个不完整的 {encoding} 字符。",
    "{file_name}: the file has no values, only delimiters and blank lines.": "{file_name}：文件没有值，只有分隔符和空行。",
    "{file_name}: sheet row {row} has values right of the last header column ({width} columns). Fix the row and "
    "upload again.": "{file_name}：工作表第 {row} 行在最后一个表头列的右侧还有值（表头共 {width} 列）。请修正该行后重新上传。",
    "{file_name}: line {line} is not a JSON object.": "{file_name}：第 {line} 行不是 JSON 对象。",
    "{file_name}: not a readable Parquet file ({detail}).": "{file_name}：不是可读取的 Parquet 文件（{detail}）。",
    "{file_name}: the bytes at line {line} (byte {byte}) are not valid {encoding}. Choose the right encoding (e.g. "
    "GB18030 for GBK exports) or fix the file.":
        "{file_name}：第 {line} 行（第 {byte} 字节）的内容不是有效的 {encoding} 编码。请选择正确的编码"
        "（GBK 导出的文件请选 GB18030）或修正文件。",
    "{file_name}: invalid JSON at line {line}: {detail}.": "{file_name}：第 {line} 行的 JSON 无效：{detail}。",
    "{file_name}: the JSON is nested too deeply to be a table of records.": "{file_name}：JSON 嵌套太深，无法作为记录表。",
    "{file_name}: item {i} of the JSON array is not an object.": "{file_name}：JSON 数组的第 {i} 项不是对象。",
    "{file_name}: line {line} is not valid JSON ({detail}).": "{file_name}：第 {line} 行不是有效的 JSON（{detail}）。",
    "{file_name}: line {line}: the JSON is nested too deeply to be a table of records.":
        "{file_name}：第 {line} 行：JSON 嵌套太深，无法作为记录表。",
    # readers._too_long_message and readers._csv_error_message
    "{file_name}: {where} is {size} MB long; a row may be at most {max_mb} MB. Shorten or remove its longest field "
    "and upload again.": "{file_name}：{where}长 {size} MB，而每行最多 {max_mb} MB。请缩短或删除其中最长的字段后重新上传。",
    "{file_name}: {where} runs over {size} MB; a row may be at most {max_mb} MB. An opening quote that is never "
    "closed is the usual cause.": "{file_name}：{where}超过了 {size} MB，而每行最多 {max_mb} MB。通常是某个引号没有闭合。",
    "{file_name}: {where} has {found} fields but the header has {expected}. Fix the row (ragged rows are not loaded) "
    "and upload again.": "{file_name}：{where}有 {found} 个字段，但表头有 {expected} 个。请修正该行后重新上传（字段数不齐的行不会载入）。",
    "The file cannot be read at {where}: {detail}": "文件在{where}处无法读取：{detail}",
    # store
    "The secret {name} is not set: run `python -m governance init` (it writes {path}) or set {variable}.":
        "密钥 {name} 未设置：请运行 `python -m governance init`（它会写入 {path}），或设置环境变量 {variable}。",
    "Cannot read the secrets file {path}: {detail}": "无法读取密钥文件 {path}：{detail}",
    "Cannot read the store {path}: {value}.": "无法读取数据库文件 {path}：{value}。",
    "{path} is a folder, not a store; give the store's file.": "{path} 是一个文件夹，不是数据库；请指定数据库文件。",
    "{path} is not a Steward store (not a DuckDB database file); give another --db.":
        "{path} 不是 Steward 数据库（不是 DuckDB 数据库文件）；请用 --db 指定其他文件。",
    "Map column {header!r} to a field name or null, not {f}.": "请把列“{header}”映射到一个字段名或 null，而不是 {f}。",
    "{file_name} has no column {unknown}; its columns are {headers}.": "{file_name} 中没有列 {unknown}；它的列是：{headers}。",
    "{file_name}: the file is UTF-8 up to line {line} (byte {byte}), which is in another encoding: it mixes encodings. "
    "Save it again in one encoding (UTF-8), or choose the encoding most of it is in.":
        "{file_name}：文件直到第 {line} 行（第 {byte} 字节）都是 UTF-8，这一行却是另一种编码，文件混用了编码。"
        "请把文件重新保存为同一种编码（UTF-8），或选择文件主体所用的编码。",
    "{out} is Steward's {what}; write the output to another file.": "{out} 是 Steward 自己的文件（{what}），请写到其他文件。",
    "{out} is a folder; give a file name.": "{out} 是文件夹，请给出文件名。",
    "{out} already exists; add --force to replace it.": "{out} 已存在；如需替换，请加上 --force。",
    # tags: definitions
    "Tag code {code!r} must be lower snake case (letters, digits and single underscores, starting with a letter), "
    "at most {code_max} characters.":
        "标签编码“{code}”须为小写下划线格式（字母、数字和单个下划线，以字母开头），最多 {code_max} 个字符。",
    "A condition is nested more than 20 levels deep.": "条件嵌套超过 20 层。",
    "A condition must be a JSON object such as {{\"field\": \"province\", \"in\": [\"广东省\"]}}.":
        "条件必须是一个 JSON 对象，例如 {{\"field\": \"province\", \"in\": [\"广东省\"]}}。",
    "A test names exactly one of field, event or tag.": "每个判断只能指定一个对象：字段、消费事件或标签。",
    "A test takes exactly one operator: {operators}.": "每个判断只能有一个比较方式：{operators}。",
    "Unknown key in a condition: {unknown}.": "条件中有无法识别的项：{unknown}。",
    "\"{ops}\" takes a non-empty list of values.": "“{ops}”需要一个非空的取值列表。",
    "\"is_null\" takes true or false.": "“is_null”只能取 true 或 false。",
    "The technical definition must be a JSON object.": "技术定义必须是一个 JSON 对象。",
    "A tag needs a Chinese and an English name.": "标签需要中文名和英文名。",
    "Unknown value type {value_type!r}; choose one of {value_types}.": "未知的取值类型“{value_type}”；请从以下类型中选择：{value_types}。",
    "Unknown sensitivity {sensitivity!r}; choose one of {sensitivities}.": "未知的敏感级别“{sensitivity}”；请从以下级别中选择：{sensitivities}。",
    "Unknown refresh cadence {refresh_cadence!r}; choose one of {cadences}.":
        "未知的刷新频率“{refresh_cadence}”；请从以下频率中选择：{cadences}。",
    "An enumeration tag lists its allowed values.": "枚举型标签需要列出允许的取值。",
    "Allowed values must be distinct and not empty.": "允许的取值不能重复，也不能为空。",
    "A tag definition file holds one JSON object.": "标签定义文件应包含一个 JSON 对象。",
    "The tag definition lacks: {missing}.": "标签定义缺少：{missing}。",
    "allowed_values is a list.": "allowed_values 应为列表。",
    "\"{key}\" takes a non-empty list of conditions and nothing beside it.": "“{key}”需要一个非空的条件列表，且不能有其他项。",
    "\"not\" takes one condition and nothing beside it.": "“not”只能包含一个条件，且不能有其他项。",
    "Unknown event aggregate {cond!r}; choose one of {event_aggregates}.": "未知的消费指标“{cond}”；请从以下指标中选择：{event_aggregates}。",
    "\"days\" must be a whole number of days from 1 to 3660.": "“days”必须是 1 到 3660 之间的整数天数。",
    "Unknown template {technical!r}.": "未知的内置模板“{technical}”。",
    "A source mapping names its conflict rule: {conflict_rules}.": "来源映射需要指定冲突规则：{conflict_rules}。",
    "A rule with \"when\" defines a boolean tag.": "带“when”的规则只能定义布尔型标签。",
    "\"cases\" define an enumeration tag.": "“cases”只能定义枚举型标签。",
    "\"cases\" is a list of {{\"value\": …, \"when\": condition}}.": "“cases”应为 {{\"value\": …, \"when\": 条件}} 的列表。",
    "A metric defines a number tag from an event aggregate: {metric_events}.": "指标只能基于消费指标定义数值型标签：{metric_events}。",
    "Case values not among the allowed values: {unknown}.": "以下分支取值不在允许的取值中：{unknown}。",
    "Each allowed value is a code or {{\"code\", \"zh\", \"en\"}}.": "每个允许的取值应为一个编码或 {{\"code\", \"zh\", \"en\"}}。",
    "The technical definition needs one of: template, source_mapping, when, cases, metric.":
        "技术定义需要以下之一：template、source_mapping、when、cases、metric。",
    # tags: compute and rules
    "--as-of takes a date such as 2026-03-31, not {text!r}.": "--as-of 需要日期，例如 2026-03-31，而不是“{text}”。",
    "Tags that cannot be exported by this role: {refused}.": "当前角色不能导出以下标签：{refused}。",
    "Tags read each other in a cycle: {path}.": "标签之间互相引用，形成了循环：{path}。",
    "Tags were last computed as of {newest}; computing an earlier date would rewrite their history.":
        "标签最近一次按 {newest} 计算；按更早的日期计算会改写标签历史。",
    "Not a computed (published or deprecated) tag: {unknown}.": "以下标签不在计算范围内（须为已发布或已弃用）：{unknown}。",
    "Unknown kind {kind!r}.": "未知的判断类型“{kind}”。",
    "Unknown event aggregate {event!r}.": "未知的消费指标“{event}”。",
    "\"{what}\" takes a list of names.": "“{what}”需要一个名称列表。",
    "\"{op}\" compares numbers or dates only.": "“{op}”只能比较数字或日期。",
    "Expected text, got {value!r}.": "这里需要文本，而不是“{value}”。",
    "Expected a number, got {value!r}.": "这里需要数字，而不是“{value}”。",
    "Expected a finite number, got {value!r}.": "这里需要一个有限的数字，而不是“{value}”。",
    "A number has at most {NUMBER_DIGITS} digits before or after the point.": "数字在小数点前后各最多 {NUMBER_DIGITS} 位。",
    "Expected true or false, got {value!r}.": "这里需要 true 或 false，而不是“{value}”。",
    "A list field takes eq, ne, in, not_in or is_null, not {op}.": "列表字段只能用 eq、ne、in、not_in 或 is_null，不能用 {op}。",
    "A tag's rule cannot test an audience.": "标签规则不能引用人群。",
    "\"tag\" names a tag code.": "“tag”需要填写标签编码。",
    "Expected a date such as 2026-03-01, got {value!r}.": "这里需要日期，例如 2026-03-01，而不是“{value}”。",
    "Unknown field {field!r}; choose one of {fields}.": "未知字段“{field}”；请从以下字段中选择：{fields}。",
    "Tag {code} has no computable technical definition.": "标签 {code} 的技术定义无法计算。",
    "\"{key}\" must be a whole number of days from 1 to 3660.": "“{key}”必须是 1 到 3660 之间的整数天数。",
    "The template {t!r} is computed elsewhere.": "内置模板“{t}”由其他步骤计算。",
    "Lifecycle thresholds need new_days ≤ active_days < dormant_days.":
        "生命周期阈值须满足：新客天数 ≤ 活跃天数 < 沉睡天数。",
    "The template {template} gives values of another type than {value_type}.":
        "内置模板“{template}”给出的取值类型不是{value_type}。",
    "The rule reads the tag {code!r}, which does not exist or is retired.": "规则引用的标签“{code}”不存在或已停用。",
    "The rule reads the tag {code!r}, which reads this tag in turn.": "规则引用的标签“{code}”反过来又引用了这个标签。",
    "The rule reads the {sensitivity} tag {code!r}: this tag must be {level} too.":
        "规则引用了{sensitivity}级标签“{code}”：这个标签也必须设为{level}级。",
    "Tags are computed as of today ({today}) or an earlier day, not {as_of}.":
        "标签只能按今天（{today}）或更早的日期计算，不能按 {as_of} 计算。",
    # tags: source
    "No source named {source!r}; there are no sources yet.": "没有名为“{source}”的数据源；目前还没有任何数据源。",
    "No source named {source!r}; the sources are: {sources}.": "没有名为“{source}”的数据源；现有数据源：{sources}。",
    "The source {source!r} has no column {column!r}; its columns are: {columns}.":
        "数据源“{source}”没有“{column}”这一列；它的列有：{columns}。",
    "The values are a non-empty JSON object {{SOURCE_VALUE: TAG_VALUE}} or "
    "{{SOURCE_VALUE: {{\"tag\": CODE, \"value\": VALUE}}}}.":
        "映射值必须是非空的 JSON 对象 `{{来源值: 标签值}}` 或 `{{来源值: {{\"tag\": 标签编码, \"value\": 标签值}}}}`。",
    "A source value to map must not be empty.": "要映射的来源值不能为空。",
    "Unknown key in the mapping of {value!r}: {keys}.": "“{value}”的映射中有未知的键：{keys}。",
    "The value {value!r} names the tag {code!r}, but the mapping is for {tag_code!r}.":
        "值“{value}”指定的标签是“{code}”，但本次映射针对的是标签“{tag_code}”。",
    "The source value {value!r} is given twice (values match ignoring case and spaces).":
        "来源值“{value}”出现了两次（比较时忽略大小写和首尾空格）。",
    "Each mapped value names its tag: {{\"tag\": CODE, \"value\": VALUE}}, or give the tag.":
        "每个映射值都要指明标签：`{{\"tag\": 标签编码, \"value\": 标签值}}`，或者统一指定标签。",
    "The tag {code!r} is not computed from source mappings; its technical definition has no source_mapping.":
        "标签“{code}”不是由来源映射计算的：它的技术定义中没有 source_mapping。",
    "The tag {code!r} is retired.": "标签“{code}”已停用。",
    "The value for the tag {code!r} must be one value, not {kind}.": "标签“{code}”的映射值必须是单个值，而不是 {kind}。",
    "The tag {code!r} takes true or false, not {value!r}.": "标签“{code}”只接受 true 或 false，不接受“{value}”。",
    "{value!r} is not an allowed value of the tag {code!r}; allowed: {values}.":
        "“{value}”不是标签“{code}”的允许值；允许值为：{values}。",
    "The tag {code!r} takes a number, not {value!r}.": "标签“{code}”只接受数字，不接受“{value}”。",
    "The tag {code!r} takes a date such as 2026-03-01, not {value!r}.":
        "标签“{code}”只接受日期（如 2026-03-01），不接受“{value}”。",
    "Cannot read the values file {name}: {detail}": "无法读取映射值文件 {name}：{detail}",
    "Cannot read the values file {name}: it is nested too deeply.": "无法读取映射值文件 {name}：嵌套层级太深。",
    "The values file holds one JSON object: {{\"tag\": CODE, \"values\": {{SOURCE_VALUE: TAG_VALUE}}}}.":
        "映射值文件必须是一个 JSON 对象：`{{\"tag\": 标签编码, \"values\": {{来源值: 标签值}}}}`。",
    "The file maps to the tag {named!r} but --tag says {tag!r}.": "文件映射到标签“{named}”，但 --tag 指定的是“{tag}”。",
    # tags: library
    "No tag {code!r}.": "没有标签“{code}”。",
    "The tag {code!r} has no version {version}.": "标签“{code}”没有第 {version} 版。",
    "A category path is lower snake case segments joined by '/' (such as preference/category), not {path!r}.":
        "分类路径由小写字母、数字和下划线组成的段以“/”连接（如 preference/category），“{path}”不符合。",
    "A category needs a Chinese and an English name.": "分类需要中文名和英文名。",
    "Unknown roles: {roles}; choose from {choices}.": "未知角色：{roles}；请从以下角色中选择：{choices}。",
    "Only admins and stewards edit tags: edit_roles names admin or steward only.":
        "只有管理员和数据管家可以编辑标签：可编辑角色只能是管理员或数据管家。",
    "{actor!r} is not an active Steward user: pass --actor USER with your user name.":
        "“{actor}”不是在用的 Steward 用户：请用 `--actor 用户名` 指明您的用户名。",
    "Unknown tag category {category!r}; choose one of {categories}.": "未知的标签分类“{category}”；请从以下分类中选择：{categories}。",
    "Only stewards and admins change tags; {username} is {role}.": "只有数据管家和管理员可以修改标签；{username} 的角色是{role}。",
    "The role {role} may not edit tags in the category {category!r}.": "角色“{role}”不能编辑分类“{category}”中的标签。",
    "An approval needs a comment.": "批准需要填写审核意见。",
    "A rejection needs a comment.": "驳回需要填写审核意见。",
    "Only admins change tag categories; {username} is {role}.": "只有管理员可以修改标签分类；{username} 的角色是{role}。",
    "The parent category {parent!r} does not exist yet.": "上级分类“{parent}”还不存在。",
    "The owner {owner!r} is not a Steward user.": "负责人“{owner}”不是 Steward 用户。",
    "Version {version} of {code!r} is {status}; only a draft is submitted for review.":
        "标签“{code}”第 {version} 版的状态是“{status}”；只有草稿可以提交审核。",
    "Version {version} of {code!r} is {status}, not in review.": "标签“{code}”第 {version} 版的状态是“{status}”，不在审核中。",
    "Four eyes: {username} wrote version {version} of {code!r}; another steward or admin reviews it.":
        "双人复核：标签“{code}”第 {version} 版由 {username} 编写，须由另一位数据管家或管理员审核。",
    "The tag {code!r} has no published version to deprecate.": "标签“{code}”没有可弃用的已发布版本。",
    "The tag {code!r} is not published or deprecated; only those are retired.":
        "标签“{code}”既未发布也未弃用；只有已发布或已弃用的标签可以下线。",
    "The tag {code!r} cannot be retired: the tags {tags} and the audiences {audiences} use it.":
        "标签“{code}”不能下线：标签 {tags} 和人群 {audiences} 正在使用它。",
    "The tag {code!r} cannot be retired: the tags {tags} use it.": "标签“{code}”不能下线：标签 {tags} 正在使用它。",
    "The tag {code!r} cannot be retired: the audiences {audiences} use it.": "标签“{code}”不能下线：人群 {audiences} 正在使用它。",
    "The category {category!r} already has a published tag named {name!r}: {code}. Choose another name.":
        "分类“{category}”中已有名为“{name}”的已发布标签：{code}。请换一个名称。",
    "The tag {code!r} is retired; give a new definition a new code.": "标签“{code}”已下线；新的定义请使用新的编码。",
    "Nothing changed since version {version} of {code!r}.": "与标签“{code}”第 {version} 版相比没有任何改动。",
    "A new version of {code!r} needs a reason: say why it changes.": "标签“{code}”的新版本需要填写修改原因。",
    "Cannot read the tag definition file {name}: {detail}": "无法读取标签定义文件 {name}：{detail}",
    "Cannot read the tag definition file {name}: it is nested too deeply.": "无法读取标签定义文件 {name}：嵌套层级太深。",
    # tags: library, near-duplicate warnings on save (not raised; the UI translates them the same way)
    "The name {name!r} is like {other!r} of the tag {code}; is it the same tag?":
        "名称“{name}”与标签 {code} 的“{other}”相近，是否为同一个标签？",
    "The technical definition is the same as the tag {code}'s.": "技术定义与标签 {code} 的相同。",
    # api keys (helper C)
    "A key name is 2–64 characters: lower-case letters, digits, '.', '_' or '-'.":
        "密钥名称为 2–64 个字符，只能包含小写字母、数字、“.”、“_”或“-”。",
    "Unknown scope {scope!r}; choose from {scopes}.": "未知权限范围“{scope}”；请从以下范围中选择：{scopes}。",
    "A key needs at least one scope: {scopes}.": "密钥至少需要一个权限范围：{scopes}。",
    "Cannot read the expiry {value!r}: write a date such as 2027-01-31.": "无法识别到期日“{value}”：请填写日期，例如 2027-01-31。",
    "The expiry must lie in the future.": "到期日必须晚于现在。",
    "The rate limit is a whole number of requests per minute.": "调用频率上限须为每分钟请求次数（整数）。",
    "The rate limit must be between 1 and {max_rate} requests per minute.": "调用频率上限须在每分钟 1 到 {max_rate} 次之间。",
    "An API key named {name!r} already exists (a revoked key keeps its name).":
        "已有名为“{name}”的 API 密钥（已吊销的密钥仍占用其名称）。",
    "No API key named {name!r}.": "没有名为“{name}”的 API 密钥。",
    "The API key {name!r} is already revoked.": "API 密钥“{name}”已被吊销。",
    "A key reads as an analyst or a steward, not as {role!r}.": "密钥只能以分析师或数据管家的角色读取，不能是“{role}”。",
    "{username} ({role}) may not do this: it needs the permission {permission!r}.":
        "{username}（{role}）不能执行此操作：需要“{permission}”权限。",
    # audiences: rules and saved audiences
    "The rule is not valid JSON: {detail}": "规则不是有效的 JSON：{detail}",
    "An audience test is {{\"audience\": NAME}} and nothing beside it.":
        "人群判断应为 `{{\"audience\": 人群名称}}`，且不能有其他项。",
    "\"audience\" names a saved audience.": "“audience”需要填写已保存人群的名称。",
    "A rule is nested more than {max_depth} levels deep.": "规则嵌套超过 {max_depth} 层。",
    "The audience {name!r} includes itself: {path}.": "人群“{name}”引用了自身：{path}。",
    "Audiences are nested more than {max_audiences} deep.": "人群之间的嵌套引用超过 {max_audiences} 层。",
    "Cannot read the rule file {path}: {detail}": "无法读取规则文件 {path}：{detail}",
    "Give a saved audience NAME or --rule RULE.json (one of them).":
        "请给出已保存人群的名称或 `--rule RULE.json`（二者选其一）。",
    "No saved audience {name!r}.": "没有已保存的人群“{name}”。",
    "Unknown purpose {purpose!r}; choose one of {purposes}.": "未知目的“{purpose}”；请从以下目的中选择：{purposes}。",
    "Only stewards and admins change audiences; {username} is {role}.":
        "只有数据管家和管理员可以修改人群；{username} 的角色是{role}。",
    "An audience name is 1 to 64 letters, digits, _, . or -, starting with a letter or digit, not {name!r}.":
        "人群名称为 1 到 64 个字母、数字、“_”、“.”或“-”，须以字母或数字开头，“{name}”不符合。",
    "The rule reads tags that are not published: {unknown}.": "规则引用了未发布的标签：{unknown}。",
    "Unknown audience kind {kind!r}; choose one of {kinds}.": "未知的人群类型“{kind}”；请从以下类型中选择：{kinds}。",
    "A page holds 1 to {max_page} members.": "每页可含 1 到 {max_page} 个成员。",
    "Choose at least one audience.": "请至少选择一个人群。",
    "Unknown breakdown {by!r}; choose one of {breakdowns}.": "未知的分布维度“{by}”；请从以下维度中选择：{breakdowns}。",
    # audiences: activation files
    "Exporting an audience needs the permission 'audiences.export' (stewards and admins).":
        "导出人群需要“audiences.export”权限（数据管家和管理员拥有）。",
    "Unknown hash {hash!r}; choose md5 or sha256.": "未知的哈希算法“{hash}”；请选择 MD5 或 SHA-256。",
    "An activation needs a consent purpose ({purposes}), not {purpose!r}.":
        "激活文件需要一个同意目的（{purposes}），而不是“{purpose}”。",
    "An SMS file needs the purpose 'marketing' (granted marketing consent), not {purpose!r}.":
        "短信文件需要“营销”目的（须已授予营销同意），而不是“{purpose}”。",
    "A {channel} file carries identifiers; it needs the permission 'pii.unmasked'.":
        "“{channel}”文件包含身份标识，需要“pii.unmasked”权限。",
    "The snapshot audience {name!r} has no snapshot yet; take one first.": "快照人群“{name}”还没有快照，请先生成快照。",
    "The channel {channel!r} is written through the export machinery.": "渠道“{channel}”的文件通过数据导出功能写出。",
    "--app-id applies to the wechat channel only.": "--app-id 只适用于微信渠道。",
    "There is no activation {activation_id}.": "没有编号为 #{activation_id} 的激活记录。",
    # audiences: push destinations and pushes
    "{url!r} is not a URL: a webhook needs https://host/path.": "“{url}”不是有效网址：Webhook 需要形如 https://host/path 的地址。",
    "Put no credentials in a webhook URL; the HMAC secret signs every push.":
        "Webhook 地址中不能包含凭据；每次推送都由 HMAC 密钥签名。",
    "A webhook must use https:// (plain http:// only to 127.0.0.1 or localhost), not {url!r}.":
        "Webhook 必须使用 https://（明文 http:// 只能用于 127.0.0.1 或 localhost），而不是“{url}”。",
    "The secret {secret_name!r} is not in {path}: add a line {name} = \"…\" there "
    "(the key the receiver verifies signatures with).":
        "密钥“{secret_name}”不在 {path} 中：请在其中添加一行 `{name} = \"…\"`（接收方用它验证签名）。",
    "Only admins configure push destinations; {username} is {role}.": "只有管理员可以配置推送目的地；{username} 的角色是{role}。",
    "Bad destination name {name!r}: use letters, digits, '.', '-' or '_' (at most 64).":
        "推送目的地名称“{name}”无效：只能使用字母、数字、“.”、“-”或“_”（最多 64 个字符）。",
    "Unknown destination kind {kind!r}; choose webhook or outbox.": "未知的推送目的地类型“{kind}”；请选择 webhook 或 outbox。",
    "A {channel} file reaches people to market to them: it needs the purpose 'marketing', not {purpose!r}.":
        "“{channel}”文件用于营销触达，用途须为“营销”，不能是“{purpose}”。",
    "A webhook's secret is a secrets-file entry named webhook_…, not {secret_name!r}.":
        "Webhook 的签名密钥须是密钥文件中以 webhook_ 开头的条目，不能是“{secret_name}”。",
    "A webhook needs --secret-name: the secrets-file entry that signs its pushes.":
        "Webhook 需要 --secret-name：密钥文件中用于为推送签名的条目名称。",
    "An outbox needs an absolute folder path, not {target!r}.": "发件箱需要一个绝对文件夹路径，而不是“{target}”。",
    "{target} exists and is not a folder.": "{target} 已存在，但不是文件夹。",
    "Pushing an audience needs the permission 'audiences.push' (stewards and admins).":
        "推送人群需要“audiences.push”权限（数据管家和管理员拥有）。",
    "There is no destination {destination!r}; an admin adds it (destinations add).":
        "没有推送目的地“{destination}”；请由管理员添加（`destinations add`）。",
    "The destination {destination!r} is disabled.": "推送目的地“{destination}”已停用。",
}

# Parts of messages that a placeholder carries: where in a file, what a file holds.
FRAGMENTS: dict[str, str] = {
    "line {line}": "第 {line} 行",
    "line {line} (not counting line breaks inside quotes)": "第 {line} 行（不计引号内的换行）",
    "a line": "某一行",
    "(none)": "（无）",
    "an Excel/zip file": " Excel/zip 文件",
    "a Parquet file": " Parquet 文件",
    "an old Excel (.xls) file": "旧版 Excel（.xls）文件",
    "a binary file": "二进制文件",
    "a text file": "文本文件",
}

# Placeholder name (without a trailing number) -> the coded column its value is labelled by; a plural
# name holds a comma-separated list of such values.
_REASONS_ZH = {en: zh for zh, en in REASONS.values()}
_LABELLED = {"why": "why", "field": "field", "channel": "channel", "role": "role", "status": "status", "state": "state",
             "purpose": "purpose", "request_type": "request_type", "scope": "scope", "rule_type": "rule_type",
             "decision": "decision", "reason": "reason", "sensitivity_class": "sensitivity_class",
             "sensitivity": "sensitivity", "level": "sensitivity", "value_type": "value_type"}
_LISTED = {"fields": "field", "channels": "channel", "roles": "role", "statuses": "status", "purposes": "purpose",
           "request_types": "request_type", "scopes": "scope"}
# Placeholders that carry a part of the message in English (a fragment or another message).
_NESTED = {"where", "problem", "ext", "found"}
_MAX_DEPTH = 2  # a value translated inside a value translated inside the message


def _compile(template: str) -> tuple[re.Pattern[str], frozenset[str]]:
    """The template as a full-match regex (placeholders lazy groups, the rest literal), and the names
    of its repr-quoted placeholders."""
    pattern, quoted = [], set()
    for literal, name, _spec, conversion in Formatter().parse(template):
        pattern.append(re.escape(literal))
        if name is None:
            continue
        if conversion == "r":
            quoted.add(name)
            pattern.append(f"(?P<q_{name}>['\"])(?P<{name}>.*?)(?P=q_{name})")
        else:
            pattern.append(f"(?P<{name}>.*?)")
    return re.compile("".join(pattern), re.DOTALL), frozenset(quoted)


def _literal_length(template: str) -> int:
    return sum(len(literal) for literal, *_ in Formatter().parse(template))


def _table(catalogue: dict[str, str]) -> list[tuple[re.Pattern[str], frozenset[str], str]]:
    """Most literal text first, so that e.g. "{file_name}: line {line}: the JSON is nested too deeply …"
    wins over "{file_name}: the JSON is nested too deeply …"."""
    ordered = sorted(catalogue, key=_literal_length, reverse=True)
    return [(*_compile(en), catalogue[en]) for en in ordered]


_MESSAGES = _table(CATALOGUE)
_PARTS = _table(CATALOGUE | FRAGMENTS)


def _unquote(value: str, quote: str) -> str:
    try:
        text = ast.literal_eval(quote + value + quote)
    except (ValueError, SyntaxError):
        return value
    return text if isinstance(text, str) else value


def _label(column: str, value: str) -> str:
    if column == "why":  # a normalizer's reason, in its English words
        return _REASONS_ZH.get(value.rstrip("."), value)
    if column == "field":
        return column_label(value, "zh")
    if column == "channel":  # a source's channel, else an audience's (sms, douyin_dmp, …)
        source = channel_label(value, "zh")
        return source if source != value else code_text("audiences.channel.", value, "zh")
    shown = value_label(column, value, "zh")
    return shown if isinstance(shown, str) else value


def _value(name: str, value: str, depth: int) -> str:
    base = name.rstrip("0123456789")
    if base in _LISTED:
        return "、".join(_label(_LISTED[base], part.strip()) for part in value.split(","))
    if base in _LABELLED:
        return _label(_LABELLED[base], value)
    if base in _NESTED and depth < _MAX_DEPTH:
        inner = _match(value, _PARTS, depth + 1)
        if inner is not None:
            return inner
    return value


def _match(message: str, table: list[tuple[re.Pattern[str], frozenset[str], str]], depth: int) -> str | None:
    for regex, quoted, zh in table:
        found = regex.fullmatch(message)
        if found is None:
            continue
        values = {}
        for name, value in found.groupdict().items():
            if name.startswith("q_") and name[2:] in quoted:
                continue
            if name in quoted:
                values[name] = _value(name, _unquote(value, found.group(f"q_{name}")), _MAX_DEPTH)
            else:
                values[name] = _value(name, value, depth)
        return zh.format(**values)
    return None


def translate(message: str, lang: str) -> str:
    """`message` (a library error's text) in `lang`: as it is for English, or when no template matches."""
    if lang != "zh" or not message:
        return message
    return _match(message, _MESSAGES, 0) or message
