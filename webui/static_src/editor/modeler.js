// The bundle's entry (esbuild → webui/static/vendor/editor/closeloop-modeler.js, git-ignored): the
// bpmn-js modeler with the properties panel, our spiffworkflow: descriptor and properties provider.
// Pages call window.CloseloopModeler.create(...); see webui/static/editor/editor.js.
import Modeler from "bpmn-js/lib/Modeler";
import { BpmnPropertiesPanelModule, BpmnPropertiesProviderModule } from "bpmn-js-properties-panel";
import spiffworkflow from "./spiffworkflow.json";
import CloseloopPropertiesProvider from "./provider";
import { durationText, isoKind } from "./timers";

const CloseloopProviderModule = {
  __init__: ["closeloopPropertiesProvider"],
  closeloopPropertiesProvider: ["type", CloseloopPropertiesProvider],
};

function create(container, panel, closeloop) {
  return new Modeler({
    container,
    keyboard: { bindTo: document },
    propertiesPanel: { parent: panel },
    additionalModules: [BpmnPropertiesPanelModule, BpmnPropertiesProviderModule, CloseloopProviderModule],
    moddleExtensions: { spiffworkflow },
    closeloop,
  });
}

window.CloseloopModeler = { create, durationText, isoKind };
