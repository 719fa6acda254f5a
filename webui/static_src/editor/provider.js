// Closeloop's properties for the spiffworkflow: extensions the engine reads (issue 12 §1).  Every
// change goes through bpmn-js's modeling commands, so undo/redo covers it.  Expressions are checked by
// the server's sandbox parser (config.closeloop.check); timers are typed as ISO-8601 values, quoted
// here, never by the owner.
import { h } from "@bpmn-io/properties-panel/preact";
import { useEffect, useState } from "@bpmn-io/properties-panel/preact/hooks";
import { SelectEntry, TextFieldEntry, isSelectEntryEdited, isTextFieldEntryEdited } from "@bpmn-io/properties-panel";
import { useService } from "bpmn-js-properties-panel";
import { is } from "bpmn-js/lib/util/ModelUtil";
import { durationText, isoKind } from "./timers";

const ZH_NAME = "name.zh_Hans";
const FORM = "formJsonSchemaFilename";
const TIMER_KINDS = ["timeDuration", "timeDate", "timeCycle"];

function extension(bo, type) {
  const ext = bo.get("extensionElements");
  return ext ? (ext.get("values") || []).find((v) => is(v, type)) : undefined;
}

function ensureExtension(element, bo, type, injector, attrs) {
  const found = extension(bo, type);
  if (found) { return found; }
  const factory = injector.get("bpmnFactory");
  const modeling = injector.get("modeling");
  let ext = bo.get("extensionElements");
  if (!ext) {
    ext = factory.create("bpmn:ExtensionElements", { values: [] });
    ext.$parent = bo;
    modeling.updateModdleProperties(element, bo, { extensionElements: ext });
  }
  const created = factory.create(type, attrs || {});
  created.$parent = ext;
  modeling.updateModdleProperties(element, ext, { values: [...(ext.get("values") || []), created] });
  return created;
}

function propertyValue(bo, name) {
  const props = extension(bo, "spiffworkflow:Properties");
  const found = props && (props.get("properties") || []).find((p) => p.name === name);
  return found ? found.value : "";
}

function setPropertyValue(element, bo, name, value, injector) {
  const modeling = injector.get("modeling");
  const props = ensureExtension(element, bo, "spiffworkflow:Properties", injector);
  const list = props.get("properties") || [];
  const found = list.find((p) => p.name === name);
  if (found && !value) {
    modeling.updateModdleProperties(element, props, { properties: list.filter((p) => p !== found) });
  } else if (found) {
    modeling.updateModdleProperties(element, found, { value });
  } else if (value) {
    const created = injector.get("bpmnFactory").create("spiffworkflow:Property", { name, value });
    created.$parent = props;
    modeling.updateModdleProperties(element, props, { properties: [...list, created] });
  }
}

// A text entry for an expression: under it the server's verdict ("allowed" or the sandbox's reason).
function ExpressionEntry(props) {
  const { element, id, label, getValue, setValue, cfg } = props;
  const debounce = useService("debounceInput");
  const value = getValue() || "";
  const [verdict, setVerdict] = useState(null);
  useEffect(() => {
    let live = true;
    if (!value) { setVerdict(null); return undefined; }
    cfg.check(value).then((r) => { if (live) { setVerdict(r); } });
    return () => { live = false; };
  }, [value]);
  const description = verdict === null ? cfg.t.expression_hint
    : verdict.ok ? cfg.t.expression_ok : cfg.t.expression_refused + " " + verdict.reason;
  return h(TextFieldEntry, { element, id, label, description, getValue, setValue, debounce });
}

function VocabularyEntry(props) {
  const { cfg } = props;
  const v = cfg.vocabulary;
  return h("div", { class: "bio-properties-panel-entry cl-vocabulary", "data-entry-id": props.id },
    h("p", null, cfg.t.vocabulary_intro),
    h("p", null, h("strong", null, cfg.t.functions + ": "), v.functions.join(", ")),
    h("p", null, h("strong", null, cfg.t.operators + ": "), v.operators.join("  ")),
    h("p", null, h("strong", null, cfg.t.syntax + ": "), v.syntax.join(" · ")));
}

function timerDefinition(bo) {
  return (bo.get("eventDefinitions") || []).find((d) => is(d, "bpmn:TimerEventDefinition"));
}

function timerKind(def) {
  return TIMER_KINDS.find((k) => def.get(k)) || "timeDuration";
}

function TimerValueEntry(props) {
  const { element, id, cfg, injector } = props;
  const debounce = useService("debounceInput");
  const bo = element.businessObject;
  const def = timerDefinition(bo);
  const kind = timerKind(def);
  const expr = def.get(kind);
  const raw = expr ? (expr.get("body") || "") : "";
  const literal = /^"([^"]*)"$/.exec(raw.trim());
  const shown = literal && isoKind(literal[1]) ? literal[1] : raw;
  const [verdict, setVerdict] = useState(null);
  const isLiteral = Boolean(isoKind(shown));
  useEffect(() => {
    let live = true;
    if (!shown || isLiteral) { setVerdict(null); return undefined; }
    cfg.check(shown).then((r) => { if (live) { setVerdict(r); } });
    return () => { live = false; };
  }, [shown]);
  let description = cfg.t.timer_hint;
  if (isLiteral) { description = cfg.t.timer_preview + " " + durationText(shown, cfg.lang, cfg.t); }
  else if (verdict) { description = verdict.ok ? cfg.t.timer_from_data : cfg.t.expression_refused + " " + verdict.reason; }
  const setValue = (value) => {
    const text = (value || "").trim();
    const body = isoKind(text) ? '"' + text + '"' : text;
    const formal = injector.get("bpmnFactory").create("bpmn:FormalExpression", { body });
    formal.$parent = def;
    const update = { timeDuration: undefined, timeDate: undefined, timeCycle: undefined };
    update[kind] = formal;
    injector.get("modeling").updateModdleProperties(element, def, update);
  };
  return h(TextFieldEntry, { element, id, label: cfg.t.timer_value, description, getValue: () => shown, setValue, debounce });
}

function TimerKindEntry(props) {
  const { element, id, cfg, injector } = props;
  const def = timerDefinition(element.businessObject);
  const getOptions = () => TIMER_KINDS.map((k) => ({ value: k, label: cfg.t[k] }));
  const setValue = (kind) => {
    const current = timerKind(def);
    const expr = def.get(current);
    const update = { timeDuration: undefined, timeDate: undefined, timeCycle: undefined };
    update[kind] = expr;
    injector.get("modeling").updateModdleProperties(element, def, update);
  };
  return h(SelectEntry, { element, id, label: cfg.t.timer_kind, getValue: () => timerKind(def), setValue, getOptions });
}

function operatorOf(bo) {
  return extension(bo, "spiffworkflow:ServiceTaskOperator");
}

function OperatorEntry(props) {
  const { element, id, cfg, injector } = props;
  const bo = element.businessObject;
  const getOptions = () => [{ value: "", label: cfg.t.choose }].concat(
    cfg.vocabulary.handlers.map((hd) => ({ value: hd.operator, label: hd.operator })));
  const getValue = () => { const op = operatorOf(bo); return op ? op.get("id") || "" : ""; };
  const setValue = (value) => {
    const op = ensureExtension(element, bo, "spiffworkflow:ServiceTaskOperator", injector, { id: value });
    injector.get("modeling").updateModdleProperties(element, op, { id: value });
  };
  return h(SelectEntry, { element, id, label: cfg.t.operator, getValue, setValue, getOptions });
}

function parameterValue(bo, name) {
  const op = operatorOf(bo);
  const list = op && op.get("parameterList");
  const found = list && (list.get("parameters") || []).find((p) => p.get("id") === name);
  return found ? found.get("value") || "" : "";
}

function setParameterValue(element, name, value, injector) {
  const bo = element.businessObject;
  const modeling = injector.get("modeling");
  const factory = injector.get("bpmnFactory");
  const op = ensureExtension(element, bo, "spiffworkflow:ServiceTaskOperator", injector);
  let list = op.get("parameterList");
  if (!list) {
    list = factory.create("spiffworkflow:Parameters", { parameters: [] });
    list.$parent = op;
    modeling.updateModdleProperties(element, op, { parameterList: list });
  }
  const params = list.get("parameters") || [];
  const found = params.find((p) => p.get("id") === name);
  if (found) {
    modeling.updateModdleProperties(element, found, { value });
  } else {
    const created = factory.create("spiffworkflow:Parameter", { id: name, type: "any", value });
    created.$parent = list;
    modeling.updateModdleProperties(element, list, { parameters: [...params, created] });
  }
}

function ResultVariableEntry(props) {
  const { element, id, cfg, injector } = props;
  const debounce = useService("debounceInput");
  const bo = element.businessObject;
  const getValue = () => { const op = operatorOf(bo); return op ? op.get("resultVariable") || "" : ""; };
  const setValue = (value) => {
    const op = ensureExtension(element, bo, "spiffworkflow:ServiceTaskOperator", injector);
    injector.get("modeling").updateModdleProperties(element, op, { resultVariable: value });
  };
  return h(TextFieldEntry, { element, id, label: cfg.t.result_variable, getValue, setValue, debounce });
}

function FormEntry(props) {
  const { element, id, cfg, injector } = props;
  const bo = element.businessObject;
  const getOptions = () => [{ value: "", label: cfg.t.no_form }].concat(cfg.forms.map((f) => ({ value: f, label: f })));
  return h(SelectEntry, {
    element, id, label: cfg.t.form, getOptions,
    getValue: () => propertyValue(bo, FORM),
    setValue: (value) => setPropertyValue(element, bo, FORM, value, injector),
  });
}

function LaneEntry(props) {
  const { element, id, cfg } = props;
  const lanes = element.businessObject.get("lanes") || [];
  const lane = lanes[0];
  const roles = lane ? (cfg.lanes[lane.name] || []) : [];
  const text = lane ? lane.name + (roles.length ? " → " + roles.join(", ") : "") : cfg.t.no_lane;
  return h(TextFieldEntry, {
    element, id, label: cfg.t.lane, description: cfg.t.lane_hint, disabled: true,
    getValue: () => text, setValue: () => {}, debounce: (f) => f,
  });
}

function DecisionEntry(props) {
  const { element, id, cfg, injector } = props;
  const bo = element.businessObject;
  const getValue = () => { const d = extension(bo, "spiffworkflow:CalledDecisionId"); return d ? d.get("value") || "" : ""; };
  const setValue = (value) => {
    const d = ensureExtension(element, bo, "spiffworkflow:CalledDecisionId", injector, { value });
    injector.get("modeling").updateModdleProperties(element, d, { value });
  };
  const getOptions = () => [{ value: "", label: cfg.t.choose }].concat(cfg.decisions.map((d) => ({ value: d, label: d })));
  return h(SelectEntry, { element, id, label: cfg.t.decision, getValue, setValue, getOptions });
}

export default function CloseloopPropertiesProvider(propertiesPanel, injector) {
  this._injector = injector;
  propertiesPanel.registerProvider(400, this);
}

CloseloopPropertiesProvider.$inject = ["propertiesPanel", "injector"];

CloseloopPropertiesProvider.prototype.getGroups = function (element) {
  const injector = this._injector;
  const cfg = injector.get("config.closeloop");
  const bo = element.businessObject;
  const entry = (id, component, extra, edited) => ({ id, component: (p) => component({ ...p, ...extra, cfg, injector }), isEdited: edited || isTextFieldEntryEdited });
  return (groups) => {
    const mine = [];
    if (element.type !== "label" && !is(element, "bpmn:Process") && !is(element, "bpmn:Collaboration")) {
      mine.push({
        id: "cl-names",
        label: cfg.t.names,
        entries: [
          entry("cl-name-en", (p) => h(TextFieldEntry, {
            element: p.element, id: p.id, label: cfg.t.name_en, debounce: injector.get("debounceInput"),
            getValue: () => bo.get("name") || "", setValue: (v) => injector.get("modeling").updateProperties(element, { name: v }),
          })),
          entry("cl-name-zh", (p) => h(TextFieldEntry, {
            element: p.element, id: p.id, label: cfg.t.name_zh, debounce: injector.get("debounceInput"),
            getValue: () => propertyValue(bo, ZH_NAME), setValue: (v) => setPropertyValue(element, bo, ZH_NAME, v, injector),
          })),
        ],
      });
    }
    if (is(element, "bpmn:ServiceTask")) {
      const op = operatorOf(bo);
      const handler = op && cfg.vocabulary.handlers.find((hd) => hd.operator === op.get("id"));
      const names = handler ? handler.inputs.concat(handler.optional_inputs) : [];
      const entries = [entry("cl-operator", OperatorEntry, {}, isSelectEntryEdited), entry("cl-result", ResultVariableEntry)];
      names.forEach((name) => {
        const label = name + (handler.inputs.indexOf(name) >= 0 ? " *" : "");
        entries.push(entry("cl-param-" + name, ExpressionEntry, {
          label, getValue: () => parameterValue(bo, name), setValue: (v) => setParameterValue(element, name, v, injector),
        }));
      });
      if (handler && handler.description) { entries.push(entry("cl-handler-doc", () => h("p", { class: "cl-handler-doc" }, handler.description))); }
      entries.push(entry("cl-vocabulary-st", VocabularyEntry));
      mine.push({ id: "cl-service", label: cfg.t.service_task, entries });
    }
    if (is(element, "bpmn:UserTask")) {
      mine.push({ id: "cl-user", label: cfg.t.user_task, entries: [entry("cl-form", FormEntry, {}, isSelectEntryEdited), entry("cl-lane", LaneEntry)] });
    }
    if (is(element, "bpmn:BusinessRuleTask")) {
      mine.push({ id: "cl-rule", label: cfg.t.business_rule, entries: [entry("cl-decision", DecisionEntry, {}, isSelectEntryEdited)] });
    }
    if (is(element, "bpmn:Event") && timerDefinition(bo)) {
      mine.push({ id: "cl-timer", label: cfg.t.timer, entries: [entry("cl-timer-kind", TimerKindEntry, {}, isSelectEntryEdited), entry("cl-timer-value", TimerValueEntry)] });
    }
    if (is(element, "bpmn:SequenceFlow") && bo.sourceRef && is(bo.sourceRef, "bpmn:Gateway")) {
      const getValue = () => (bo.get("conditionExpression") ? bo.get("conditionExpression").get("body") || "" : "");
      const setValue = (v) => {
        const formal = v ? injector.get("bpmnFactory").create("bpmn:FormalExpression", { body: v }) : undefined;
        if (formal) { formal.$parent = bo; }
        injector.get("modeling").updateModdleProperties(element, bo, { conditionExpression: formal });
      };
      mine.push({
        id: "cl-condition",
        label: cfg.t.condition,
        entries: [entry("cl-condition-expr", ExpressionEntry, { label: cfg.t.condition, getValue, setValue }), entry("cl-vocabulary", VocabularyEntry)],
      });
    }
    return mine.concat(groups);
  };
};
