"""The neurorobotic loops without ROS: the culture (MEA kind), the silicon board (board kind) or
both through the hub's memristive synapses driving the robot kind through the sensory encoder and
the motor decoder, in simulated time, with their controls. It composes the device kinds and the
hub, as the graph composes the labs, so it sits above them all."""
