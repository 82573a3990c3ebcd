"""Thin rclpy adapters, one node per module; all device logic lives in the core packages."""
