// The bundle's entry for decision tables: the dmn-js modeler (see build.mjs for why it is bundled here).
import DmnModeler from "dmn-js/lib/Modeler";

window.DmnJS = DmnModeler;
